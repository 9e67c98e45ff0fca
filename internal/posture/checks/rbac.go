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

// exemption is how builtIn recognises Kubernetes' own RBAC objects (and,
// from exactRules, how rules match). Each level is the behaviour of a
// range of check versions, so a scan pinned to an older version keeps that
// version's exemptions.
type exemption int

const (
	// exemptSystemNames (version 1): the bootstrap label, or any name
	// starting with system:.
	exemptSystemNames exemption = iota
	// exemptSystemNamespaces (version 3): a system: name counts only for
	// cluster-scoped objects and in kube-system and kube-public.
	exemptSystemNamespaces
	// exemptLabelled (version 4): a system: name counts for nothing; only
	// the bootstrap label does.
	exemptLabelled
	// exactRules (version 5): exemptLabelled, and rules read as the API
	// server's authorizer reads them (rbac.RuleAllows): names are
	// case-sensitive, and "pods/*" is a resource of that literal name, not
	// every subresource of pods; only "*" and "*/exec" are wildcards
	// (TestRuleWildcardsOnAPIServer).
	exactRules
)

// builtIn reports whether o is one of Kubernetes' own bootstrap roles or
// bindings, which a cluster cannot do without and users do not edit. The
// API server labels every one it creates kubernetes.io/bootstrapping=
// rbac-defaults (TestBootstrapRBACIsLabelled checks that on a real one);
// the older levels also trust a system: name. The user-facing ClusterRoles
// cluster-admin, admin, edit and view count at every level: a ClusterRole
// of that name in a cluster is the built-in one, so its grants are reported
// where it is bound, not on the role.
//
// The API server does not reserve the system: prefix: anyone allowed to
// create a Role or ClusterRole may call it system:x (Polaris' corpus has a
// Role system:test in namespace test and a ClusterRole system:test granting
// * on *). exemptSystemNamespaces stopped trusting the name for Roles in
// ordinary namespaces; exemptLabelled stops trusting it at all, so add-ons
// that borrow the prefix (system:coredns, system:metrics-server) have
// their grants judged like any other role's.
func builtIn(o *kube.Object, level exemption) bool {
	if o.Meta.Labels["kubernetes.io/bootstrapping"] == "rbac-defaults" {
		return true
	}
	if strings.HasPrefix(o.Meta.Name, "system:") {
		ns := o.Ref.Namespace
		switch level {
		case exemptSystemNames:
			return true
		case exemptSystemNamespaces:
			if ns == "" || ns == "kube-system" || ns == "kube-public" {
				return true
			}
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

// matches reports whether rule grants g, counting wildcards as level
// reads them.
func (g grant) matches(rule rbacv1.PolicyRule, level exemption) bool {
	if g.anyName && len(rule.ResourceNames) > 0 {
		return false
	}
	in := matcher(level)
	return in(rule.APIGroups, []string{g.group}) && in(rule.Resources, g.resources) && in(rule.Verbs, g.verbs)
}

// matcher returns how level matches a rule's names against those wanted.
func matcher(level exemption) func(have, want []string) bool {
	if level >= exactRules {
		return exactlyAnyOf
	}
	return anyOf
}

// exactlyAnyOf reports whether have (from a rule) contains "*", one of
// want, or "*/sub" for a wanted "resource/sub", as the API server matches.
func exactlyAnyOf(have, want []string) bool {
	for _, h := range have {
		if h == "*" {
			return true
		}
		for _, w := range want {
			if h == w {
				return true
			}
			if sub, ok := strings.CutPrefix(h, "*/"); ok {
				if _, wsub, ok := strings.Cut(w, "/"); ok && wsub == sub {
					return true
				}
			}
		}
	}
	return false
}

// anyOf is exactlyAnyOf before version 5: names compared without case,
// and "pods/*" taken to cover every subresource of pods.
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
// eval builds, one for each exemption level (see builtIn): version 1,
// 3, 4 and 5.
func rbacVersions(eval func(exemption) func(*posture.Input) []posture.Result) []posture.Versioned {
	return []posture.Versioned{
		{MinVersion: 1, Eval: eval(exemptSystemNames)},
		{MinVersion: 3, Eval: eval(exemptSystemNamespaces)},
		{MinVersion: 4, Eval: eval(exemptLabelled)},
		{MinVersion: 5, Eval: eval(exactRules)},
	}
}

// rbacVersionsSince4 is rbacVersions for a check added in version 4.
func rbacVersionsSince4(eval func(exemption) func(*posture.Input) []posture.Result) []posture.Versioned {
	return rbacVersions(eval)[2:]
}

// rbacVersionsSince3 is rbacVersions for a check added in version 3.
func rbacVersionsSince3(eval func(exemption) func(*posture.Input) []posture.Result) []posture.Versioned {
	return rbacVersions(eval)[1:]
}

// roleGrants returns a check evaluation that reports every rule of a
// non-built-in Role or ClusterRole granting one of gs; level is builtIn's.
func roleGrants(what string, level exemption, gs ...grant) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		o := in.Object
		if builtIn(o, level) {
			return nil
		}
		var out []posture.Result
		for i, rule := range rulesOf(o) {
			for _, g := range gs {
				if g.matches(rule, level) {
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
