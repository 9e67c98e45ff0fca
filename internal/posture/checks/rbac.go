package checks

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// rbacKinds are the kinds role checks evaluate.
var rbacKinds = []string{"Role", "ClusterRole"}

// bindingKinds are the kinds binding checks evaluate.
var bindingKinds = []string{"RoleBinding", "ClusterRoleBinding"}

// builtIn reports whether o is one of Kubernetes' own bootstrap roles or
// bindings (labelled kubernetes.io/bootstrapping=rbac-defaults, or named
// system:*), which a cluster cannot do without and users do not edit. The
// user-facing ClusterRoles cluster-admin, admin, edit and view count too:
// a ClusterRole of that name in a cluster is the built-in one, so its
// grants are reported where it is bound, not on the role.
//
// With strict (behaviour version 3), a system: name counts only for
// cluster-scoped objects and in kube-system and kube-public, where the
// bootstrap Roles and RoleBindings live: the API server does not reserve
// the prefix, so a Role "system:test" in namespace "test" is user-made and
// its grants are judged like any other (Polaris' corpus has such a case).
func builtIn(o *kube.Object, strict bool) bool {
	if o.Meta.Labels["kubernetes.io/bootstrapping"] == "rbac-defaults" {
		return true
	}
	if strings.HasPrefix(o.Meta.Name, "system:") {
		ns := o.Ref.Namespace
		if !strict || ns == "" || ns == "kube-system" || ns == "kube-public" {
			return true
		}
	}
	if o.Ref.Kind == "ClusterRole" {
		switch o.Meta.Name {
		case "cluster-admin", "admin", "edit", "view":
			return true
		}
	}
	return false
}

// rulesOf returns the rules of a Role or ClusterRole.
func rulesOf(o *kube.Object) []rbacv1.PolicyRule {
	switch r := o.Typed.(type) {
	case *rbacv1.Role:
		return r.Rules
	case *rbacv1.ClusterRole:
		return r.Rules
	}
	return nil
}

// grant is a permission a check looks for: any of verbs on any of
// resources ("pods/exec" for subresources) in group.
type grant struct {
	group     string
	resources []string
	verbs     []string
	// anyName, when set, leaves out rules restricted by resourceNames:
	// they grant only the objects they name.
	anyName bool
}

// matches reports whether rule grants g, counting wildcards.
func (g grant) matches(rule rbacv1.PolicyRule) bool {
	if g.anyName && len(rule.ResourceNames) > 0 {
		return false
	}
	return anyOf(rule.APIGroups, []string{g.group}) && anyOf(rule.Resources, g.resources) && anyOf(rule.Verbs, g.verbs)
}

// anyOf reports whether have (from a rule) contains "*" or one of want.
// A resource "pods/*" covers every subresource of pods, and "*/exec" the
// exec subresource of every resource.
func anyOf(have, want []string) bool {
	for _, h := range have {
		h = strings.ToLower(h)
		if h == "*" {
			return true
		}
		for _, w := range want {
			if h == w {
				return true
			}
			if strings.HasSuffix(h, "/*") && strings.HasPrefix(w, strings.TrimSuffix(h, "*")) {
				return true
			}
			// "*/scale" grants that subresource of every resource.
			if strings.HasPrefix(h, "*/") && strings.Contains(w, "/") && strings.HasSuffix(w, h[1:]) {
				return true
			}
		}
	}
	return false
}

// rbacVersions returns the behaviours of an RBAC check whose evaluation
// eval builds: version 1 with the original built-in exemption, version 3
// with the strict one (see builtIn).
func rbacVersions(eval func(strict bool) func(*posture.Input) []posture.Result) []posture.Versioned {
	return []posture.Versioned{{MinVersion: 1, Eval: eval(false)}, {MinVersion: 3, Eval: eval(true)}}
}

// roleGrants returns a check evaluation that reports every rule of a
// non-built-in Role or ClusterRole granting one of gs; strict is builtIn's.
func roleGrants(what string, strict bool, gs ...grant) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		o := in.Object
		if builtIn(o, strict) {
			return nil
		}
		var out []posture.Result
		for i, rule := range rulesOf(o) {
			for _, g := range gs {
				if g.matches(rule) {
					out = append(out, posture.Result{
						Path:     []string{"rules", itoa(i)},
						Message:  o.Ref.Kind + " " + o.Ref.Name + " rule " + itoa(i) + " grants " + what + " (verbs " + strings.Join(rule.Verbs, ",") + " on " + strings.Join(rule.Resources, ",") + ").",
						Evidence: ruleEvidence(i, rule),
					})
					break
				}
			}
		}
		return out
	}
}

// subjectsOf returns the subjects and role of a RoleBinding or ClusterRoleBinding.
func subjectsOf(o *kube.Object) ([]rbacv1.Subject, rbacv1.RoleRef, bool) {
	switch b := o.Typed.(type) {
	case *rbacv1.RoleBinding:
		return b.Subjects, b.RoleRef, true
	case *rbacv1.ClusterRoleBinding:
		return b.Subjects, b.RoleRef, true
	}
	return nil, rbacv1.RoleRef{}, false
}
