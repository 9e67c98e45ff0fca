package checks

// A RoleBinding or ClusterRoleBinding whose roleRef names a role that does
// not exist grants nothing today, and the API server accepts it: the
// authorizer skips it. It is a grant waiting for a role — whoever later
// creates a Role (in the binding's namespace) or ClusterRole of that name
// decides what the binding's subjects may do, and a chart reinstalled
// after its role was deleted turns the stale binding back on. Often it is
// a typo, and the subjects lack the access they were meant to have.
// Kubernetes' default ClusterRoles (cluster-admin, admin, edit, view and
// every system: role), and from version 13 its namespaced Roles, exist in
// every cluster and are not looked up in a manifest set (builtInObjects);
// a live scan that could not list a role kind judges no binding to it. Polaris fails such bindings in its pod exec/attach
// binding checks ("or the role does not exist").

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// DanglingRoleBinding reports bindings whose role does not exist.
func DanglingRoleBinding() posture.Check {
	return posture.Check{
		ID:          "dangling-role-binding",
		Title:       "RoleBinding or ClusterRoleBinding names a role that does not exist",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "rbac",
		Rationale:   "A binding to a missing role grants nothing until a role of that name appears; then its subjects get whatever that role grants, chosen by whoever creates it. It is usually a typo or a leftover of a deleted role.",
		Remediation: "Point roleRef at the role the subjects need (a RoleBinding's Role must be in its namespace), or delete the binding.",
		Scope:       posture.ScopeInventory,
		Kinds:       []string{"RoleBinding", "ClusterRoleBinding"},
		// New in version 11; version 13 passes bindings to the API
		// server's own namespaced Roles (builtInObjects).
		Versions: impliedVersions(evalDanglingRoleBinding, 11, 13),
	}
}

// evalDanglingRoleBinding is dangling-role-binding's evaluation at
// behaviour version v: the roles implied at v exist.
func evalDanglingRoleBinding(in *posture.Input, v posture.Version) []posture.Result {
	inv := in.Inventory
	var out []posture.Result
	for _, kind := range []string{"RoleBinding", "ClusterRoleBinding"} {
		for _, o := range inv.OfKind(kind) {
			ref, ns, ok := bindingRoleRef(o)
			if !ok || inv.Unlisted[ref.Kind] {
				continue
			}
			if objectsNamed(inv, ref.Kind).get(o, ns, ref.Name) != nil || impliedBy(inv).has(o, ref.Kind, ns, ref.Name, v) {
				continue
			}
			where := ""
			if ref.Kind == "Role" {
				where = " in namespace " + kube.AppliedNamespace(ns)
			}
			out = append(out, posture.Result{Object: o, Path: []string{"roleRef", "name"},
				Message: kind + " " + o.Meta.Name + " binds " + ref.Kind + " " + ref.Name + ", which does not exist" + where + " " + scannedSet(o) +
					": it grants nothing now, and later whatever a " + ref.Kind + " of that name grants.",
				Evidence: []finding.Evidence{key("roleRef", ref.Kind+"/"+ref.Name)}})
		}
	}
	return out
}

// bindingRoleRef returns the role a binding object refers to and the
// namespace to find it in ("" for a ClusterRole); ok is false for an
// object that is not a binding or refers to something not a role (a
// ClusterRoleBinding to a Role, which the API server refuses).
func bindingRoleRef(o *kube.Object) (ref rbacv1.RoleRef, ns string, ok bool) {
	_, ref, ok = subjectsOf(o)
	switch {
	case !ok || ref.Name == "":
		return ref, "", false
	case ref.Kind == "ClusterRole":
		return ref, "", true
	case ref.Kind == "Role" && o.Ref.Kind == "RoleBinding":
		return ref, o.Meta.Namespace, true
	}
	return ref, "", false
}
