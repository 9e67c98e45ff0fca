package checks

// CIS Kubernetes Benchmark 5.1.1: "Ensure that the cluster-admin role is
// only used where required. ... Identify all clusterrolebindings to the
// cluster-admin role. Check if they are used and if they need this role or
// if they could use a role with fewer privileges." A role of the scanned
// objects that grants every verb on every resource in every API group is
// cluster-admin under another name and counts too. Kubernetes' bootstrap
// bindings are left out, and so is a binding to system:masters (see
// skipSubject).

import (
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACClusterAdminBinding reports bindings of cluster-admin to non-system subjects.
func RBACClusterAdminBinding() posture.Check {
	return posture.Check{
		ID:          "rbac-cluster-admin-binding",
		Title:       "cluster-admin is bound to a subject",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityCritical,
		Category:    "rbac",
		Rationale:   "cluster-admin can do anything to any object; whoever holds one of these identities owns the cluster.",
		Remediation: "Bind a role with only the permissions needed; keep cluster-admin for break-glass accounts.",
		Scope:       posture.ScopeObject,
		Kinds:       bindingKinds,
		Versions: rbacVersions(func(level exemption) func(*posture.Input) []posture.Result {
			return func(in *posture.Input) []posture.Result {
				o := in.Object
				subjects, ref, ok := subjectsOf(o)
				if !ok || builtIn(o, level) {
					return nil
				}
				role := ref.Kind + " " + ref.Name
				switch {
				case ref.Kind == "ClusterRole" && ref.Name == "cluster-admin":
					role = "cluster-admin"
				case grantsEverything(in, ref.Kind, o.Ref.Namespace, ref.Name):
					role += " (every verb on every resource: cluster-admin in effect)"
				default:
					return nil
				}
				var out []posture.Result
				for i, s := range subjects {
					if skipSubject(level, s.Kind, s.Name) {
						continue
					}
					out = append(out, posture.Result{
						Path:     []string{"subjects", itoa(i)},
						Message:  o.Ref.Kind + " " + o.Ref.Name + " binds " + role + " to " + s.Kind + " " + kube.QualifiedName(s.Namespace, s.Name) + ".",
						Evidence: []finding.Evidence{key("subject", s.Kind+":"+kube.QualifiedName(s.Namespace, s.Name))},
					})
				}
				return out
			}
		}),
	}
}

// skipSubject reports whether a binding's subject is left out. Before
// version 4, every system: name but the anonymous and all-users ones was:
// those are Kubernetes' component identities. But a user-made binding to
// system:serviceaccounts gives cluster-admin to every service account, and
// one to User system:serviceaccount:<ns>:<name> to that service account;
// Kubernetes' own bindings are built-in and left out whole. From version
// 4 only Group system:masters is: the authorizer lets its members do
// anything before RBAC is asked, so binding it grants nothing new.
func skipSubject(level exemption, kind, name string) bool {
	if level < exemptLabelled {
		return strings.HasPrefix(name, "system:") && name != "system:anonymous" && name != "system:unauthenticated" && name != "system:authenticated"
	}
	return kind == "Group" && name == "system:masters"
}

// grantsEverything reports whether the role named by kind, ns and name is
// among the scanned objects and has a rule granting all verbs on all
// resources of all API groups.
func grantsEverything(in *posture.Input, kind, ns, name string) bool {
	for _, o := range in.Inventory.OfKind(kind) {
		if o.Ref.Name != name || (kind == "Role" && o.Ref.Namespace != ns) {
			continue
		}
		for _, r := range rulesOf(o) {
			if contains(r.APIGroups, "*") && contains(r.Resources, "*") && allVerbs(r.Verbs) {
				return true
			}
		}
	}
	return false
}

func allVerbs(verbs []string) bool {
	if contains(verbs, "*") {
		return true
	}
	for _, v := range []string{"get", "list", "watch", "create", "update", "patch", "delete"} {
		if !contains(verbs, v) {
			return false
		}
	}
	return true
}
