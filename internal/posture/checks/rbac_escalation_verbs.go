package checks

// CIS Kubernetes Benchmark 5.1.8: "Limit use of the Bind, Impersonate and
// Escalate permissions in the Kubernetes cluster. Cluster roles and roles
// with the impersonate, bind or escalate permissions should not be granted
// unless strictly required."

import (
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
		Versions: rbacVersions(func(strict bool) func(*posture.Input) []posture.Result {
			return roleGrants("privilege escalation", strict,
				grant{group: "rbac.authorization.k8s.io", resources: []string{"roles", "clusterroles"}, verbs: []string{"bind", "escalate"}},
				grant{group: "", resources: []string{"users", "groups", "serviceaccounts", "uids"}, verbs: []string{"impersonate"}},
				grant{group: "authentication.k8s.io", resources: []string{"userextras/scopes", "userextras", "uids"}, verbs: []string{"impersonate"}},
			)
		}),
	}
}
