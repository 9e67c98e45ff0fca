package checks

// CIS Kubernetes Benchmark 5.1.8: "Limit use of the Bind, Impersonate and
// Escalate permissions in the Kubernetes cluster. Cluster roles and roles
// with the impersonate, bind or escalate permissions should not be granted
// unless strictly required."
//
// Evidence escalates= names the grants that are cluster-admin (or
// namespace admin) in one step rather than a risk to weigh:
// bind-rolebindings / bind-clusterrolebindings when the role may bind any
// role (or cluster-admin, admin, edit) and also create those bindings, and
// impersonate-groups when it may impersonate any group, system:masters
// included. Evidence grant= names which of the three the rule grants
// (bind, escalate, impersonate; one entry each), because CIS 5.1.8 is three
// permissions and peer tools check them apart (Checkov CKV_K8S_157 bind,
// CKV_K8S_158 escalate). Adding evidence changes no verdict.

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACEscalationVerbs reports roles granting bind, escalate or impersonate.
func RBACEscalationVerbs() posture.Check {
	return posture.Check{
		ID:          "rbac-escalation-verbs",
		Title:       "Role grants bind, escalate or impersonate",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "rbac",
		Rationale:   "bind and escalate let a subject grant itself permissions it does not have; impersonate lets it act as any user, group or service account.",
		Remediation: "Remove bind, escalate and impersonate, or restrict them with resourceNames to specific roles and identities.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		Versions: rbacVersions(func(level exemption) func(*posture.Input) []posture.Result {
			return func(in *posture.Input) []posture.Result {
				o := in.Object
				creates := bindingCreates(o.Ref.Kind, rulesOf(o), level)
				return grantingRules(in, level, escalationGrants, func(i int, rule rbacv1.PolicyRule) posture.Result {
					r := grantResult(o, i, rule, "privilege escalation")
					for _, v := range []string{"bind", "escalate", "impersonate"} {
						if grantsVerb(rule, v, level) {
							r.Evidence = append(r.Evidence, ev("grant", v))
						}
					}
					if bindsPrivileged(rule, level) {
						for _, c := range creates {
							r.Evidence = append(r.Evidence, ev("escalates", "bind-"+c))
						}
					}
					if impersonatesAnyGroup(rule, level) {
						r.Evidence = append(r.Evidence, ev("escalates", "impersonate-groups"))
					}
					return r
				})
			}
		}),
	}
}

const rbacGroup = "rbac.authorization.k8s.io"

var escalationGrants = []grant{
	{group: rbacGroup, resources: []string{"roles", "clusterroles"}, verbs: []string{"bind", "escalate"}},
	{group: "", resources: []string{"users", "groups", "serviceaccounts", "uids"}, verbs: []string{"impersonate"}},
	{group: "authentication.k8s.io", resources: []string{"userextras/scopes", "userextras", "uids"}, verbs: []string{"impersonate"}},
}

// grantsVerb reports whether rule grants verb on one of the resources of
// escalationGrants that verb applies to.
func grantsVerb(rule rbacv1.PolicyRule, verb string, level exemption) bool {
	for _, g := range escalationGrants {
		if slices.Contains(g.verbs, verb) {
			g.verbs = []string{verb}
			if g.matches(rule, level) {
				return true
			}
		}
	}
	return false
}

// privilegedRoles are the roles whose binding makes its subject an
// administrator of the cluster or of a namespace.
var privilegedRoles = []string{"cluster-admin", "admin", "edit"}

// bindsPrivileged reports whether rule lets its holder bind a privileged
// role: bind on roles or clusterroles for any name, or for one of
// privilegedRoles. resourceNames are literal in RBAC: ["*"] allows binding
// a role named "*" and nothing else (TestResourceNameStarIsLiteral).
func bindsPrivileged(rule rbacv1.PolicyRule, level exemption) bool {
	g := grant{group: rbacGroup, resources: []string{"roles", "clusterroles"}, verbs: []string{"bind"}}
	if !g.matches(rule, level) {
		return false
	}
	return len(rule.ResourceNames) == 0 || slices.ContainsFunc(rule.ResourceNames, func(n string) bool { return slices.Contains(privilegedRoles, n) })
}

// bindingCreates returns which bindings ("rolebindings",
// "clusterrolebindings") the rules of a role of kind let its holder
// create: with bind on a privileged role, that is the role in one step.
// A Role cannot grant the cluster-scoped clusterrolebindings.
func bindingCreates(kind string, rules []rbacv1.PolicyRule, level exemption) []string {
	var out []string
	for _, res := range []string{"rolebindings", "clusterrolebindings"} {
		if res == "clusterrolebindings" && kind == "Role" {
			continue
		}
		// A create request carries no name: resourceNames cannot allow it.
		g := grant{group: rbacGroup, resources: []string{res}, verbs: []string{"create"}, anyName: true}
		if slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool { return g.matches(r, level) }) {
			out = append(out, res)
		}
	}
	return out
}

// impersonatesAnyGroup reports whether rule lets its holder impersonate
// system:masters: impersonate on groups, unrestricted or naming it.
func impersonatesAnyGroup(rule rbacv1.PolicyRule, level exemption) bool {
	g := grant{group: "", resources: []string{"groups"}, verbs: []string{"impersonate"}}
	return g.matches(rule, level) && (len(rule.ResourceNames) == 0 || slices.Contains(rule.ResourceNames, "system:masters"))
}
