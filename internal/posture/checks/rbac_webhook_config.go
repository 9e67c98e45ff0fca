package checks

// CIS Kubernetes Benchmark 5.1.12: "Minimize access to webhook
// configuration objects. Users with rights to create/modify/delete
// validatingwebhookconfigurations or mutatingwebhookconfigurations can
// control webhooks that can read any object admitted to the cluster, and
// in the case of mutating webhooks, also mutate admitted objects."

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACWebhookConfig reports roles that can change admission webhook
// configurations.
func RBACWebhookConfig() posture.Check {
	return posture.Check{
		ID:          "rbac-webhook-config",
		Title:       "Role can change admission webhook configurations",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "rbac",
		Rationale:   "A webhook registered by its holder receives every object admitted to the cluster, Secrets included, and a mutating one can rewrite pods as they are created; deleting one removes a policy control.",
		Remediation: "Grant create, update, patch and delete on mutating- and validatingwebhookconfigurations only to the controllers that install webhooks.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		// New in behaviour version 3: scans pinned to 1 or 2 leave it out.
		Versions: rbacVersionsSince3(func(level exemption) func(*posture.Input) []posture.Result {
			return roleGrants("control of admission webhooks", level,
				grant{group: "admissionregistration.k8s.io",
					resources: []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"},
					verbs:     []string{"create", "update", "patch", "delete", "deletecollection"}},
			)
		}),
	}
}
