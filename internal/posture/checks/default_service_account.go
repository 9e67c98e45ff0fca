package checks

// CIS Kubernetes Benchmark 5.1.5: "Ensure that default service accounts are
// not actively used. ... Where access to the Kubernetes API from a pod is
// required, a specific service account should be created for that pod."

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// DefaultServiceAccount reports pods running as the namespace's default
// service account.
func DefaultServiceAccount() posture.Check {
	return posture.Check{
		ID:          "default-service-account",
		Title:       "Pod uses the default service account",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "workload",
		Rationale:   "Permissions granted to the default service account reach every pod of the namespace that names no account of its own.",
		Remediation: "Create a service account per workload and set spec.serviceAccountName.",
		Scope:       posture.ScopeWorkload,
		Versions: v1(func(in *posture.Input) []posture.Result {
			s := in.Workload.PodSpec
			sa := s.ServiceAccountName
			if sa == "" {
				sa = s.DeprecatedServiceAccount
			}
			if sa != "" && sa != "default" {
				return nil
			}
			return []posture.Result{{Path: spath(in, "serviceAccountName"),
				Message:  "Pod runs as the default service account.",
				Evidence: []finding.Evidence{key("serviceAccountName", "default")}}}
		}),
	}
}
