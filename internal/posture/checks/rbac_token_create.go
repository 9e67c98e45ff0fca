package checks

// CIS Kubernetes Benchmark 5.1.13: "Minimize access to the service account
// token creation. Users with rights to create new service account tokens
// at a cluster level, can create long-lived privileged credentials in the
// cluster."

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACTokenCreate reports roles that can request service account tokens.
func RBACTokenCreate() posture.Check {
	return posture.Check{
		ID:          "rbac-token-create",
		Title:       "Role can create service account tokens",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "rbac",
		Rationale:   "Creating a token for a service account is acting as it, with all of its permissions.",
		Remediation: "Remove create on serviceaccounts/token.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		Versions: rbacVersions(func(level exemption) func(*posture.Input) []posture.Result {
			return roleGrants("creation of service account tokens", level,
				grant{group: "", resources: []string{"serviceaccounts/token"}, verbs: []string{"create"}},
			)
		}),
	}
}
