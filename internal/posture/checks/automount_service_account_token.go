package checks

// CIS Kubernetes Benchmark 5.1.6: "Ensure that Service Account Tokens are
// only mounted where necessary." NSA/CISA: "Protecting Pod service account
// tokens." The pod's automountServiceAccountToken wins over its service
// account's; when the pod sets nothing and the service account is in the
// scanned objects, the service account's setting counts.

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// AutomountServiceAccountToken reports pods that get an API token mounted.
func AutomountServiceAccountToken() posture.Check {
	return posture.Check{
		ID:          "automount-service-account-token",
		Title:       "Service account token is mounted automatically",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "workload",
		Rationale:   "A mounted token lets anyone who compromises the container call the Kubernetes API with the pod's identity.",
		Remediation: "Set automountServiceAccountToken: false on the pod (or its service account) unless it calls the API.",
		Scope:       posture.ScopeWorkload,
		Versions: v1(func(in *posture.Input) []posture.Result {
			s := in.Workload.PodSpec
			if s.AutomountServiceAccountToken != nil {
				if !*s.AutomountServiceAccountToken {
					return nil
				}
				return []posture.Result{{Path: spath(in, "automountServiceAccountToken"),
					Message:  "Pod sets automountServiceAccountToken: true.",
					Evidence: []finding.Evidence{key("automountServiceAccountToken", "pod")}}}
			}
			name := s.ServiceAccountName
			if name == "" {
				name = "default"
			}
			for _, o := range in.Inventory.OfKind("ServiceAccount") {
				sa, ok := o.Typed.(*corev1.ServiceAccount)
				if !ok || sa.Name != name || sa.Namespace != in.Object.Ref.Namespace {
					continue
				}
				if sa.AutomountServiceAccountToken != nil && !*sa.AutomountServiceAccountToken {
					return nil
				}
			}
			return []posture.Result{{Path: in.Workload.SpecPath,
				Message:  "Pod does not set automountServiceAccountToken: false, nor does its service account " + name + ".",
				Evidence: []finding.Evidence{key("automountServiceAccountToken", "default")}}}
		}),
	}
}
