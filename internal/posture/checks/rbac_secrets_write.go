package checks

// CIS Kubernetes Benchmark 5.1.2: "Minimize access to secrets." Writing
// secrets is an escalation of its own, apart from reading them: a Secret of
// type kubernetes.io/service-account-token created with the annotation
// kubernetes.io/service-account.name is filled by the token controller with
// a token of that service account, so whoever may create secrets in a
// namespace may mint a token for any service account there; updating a
// secret plants credentials, TLS keys or registry auth that workloads
// trust; deleting one breaks them.
//
// A rule limited by resourceNames is left out: it reaches only the secrets
// it names (the way a controller should manage its own), and cannot
// create any (a create request carries no name to match).

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACSecretsWrite reports roles that can create, change or delete secrets.
func RBACSecretsWrite() posture.Check {
	return posture.Check{
		ID:          "rbac-secrets-write",
		Title:       "Role can create, change or delete secrets",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "rbac",
		Rationale:   "Creating a service-account-token Secret mints a token for any service account of the namespace; changing secrets plants credentials that workloads trust.",
		Remediation: "Remove create, update, patch, delete and deletecollection on secrets, or limit update, patch and delete to named secrets with resourceNames.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		// New in behaviour version 4: scans pinned to 1, 2 or 3 leave it out.
		Versions: rbacVersionsSince4(func(level exemption) func(*posture.Input) []posture.Result {
			return func(in *posture.Input) []posture.Result {
				g := grant{group: "", resources: []string{"secrets"}, verbs: writeVerbs, anyName: true}
				return grantingRules(in, level, []grant{g}, func(i int, rule rbacv1.PolicyRule) posture.Result {
					r := grantResult(in.Object, i, rule, "write access to secrets")
					// A Role writes the secrets of one namespace; a ClusterRole
					// may be bound cluster-wide, kube-system's secrets included.
					if in.Object.Ref.Kind == "Role" {
						r.Severity = finding.SeverityMedium
					}
					return r
				})
			}
		}),
	}
}
