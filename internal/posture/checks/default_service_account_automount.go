package checks

// CIS Kubernetes Benchmark 5.1.5: "Ensure that default service accounts
// are not actively used." Its remediation: "modify the configuration of
// each default service account to include this value:
// automountServiceAccountToken: false". default-service-account reports
// pods that run as it; this check reports the default ServiceAccount
// itself, whose setting protects every pod that names no account.

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// DefaultServiceAccountAutomount reports default ServiceAccounts that do
// not set automountServiceAccountToken: false.
func DefaultServiceAccountAutomount() posture.Check {
	return posture.Check{
		ID:          "default-service-account-automount",
		Title:       "Default service account mounts its token",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "namespace",
		Rationale:   "Every pod of the namespace that names no service account runs as default; unless default turns automounting off, each of them gets an API token it rarely needs.",
		Remediation: "Set automountServiceAccountToken: false on the namespace's default ServiceAccount, and give workloads that call the API a dedicated one.",
		Scope:       posture.ScopeObject,
		Kinds:       []string{"ServiceAccount"},
		// New in behaviour version 3: scans pinned to 1 or 2 leave it out.
		Versions: []posture.Versioned{{MinVersion: 3, Eval: func(in *posture.Input) []posture.Result {
			sa, ok := in.Object.Typed.(*corev1.ServiceAccount)
			if !ok || sa.Name != "default" || systemNamespace(in.Object.Ref.Namespace) {
				return nil
			}
			if sa.AutomountServiceAccountToken != nil && !*sa.AutomountServiceAccountToken {
				return nil
			}
			value, path := "unset", []string{"metadata"}
			if sa.AutomountServiceAccountToken != nil {
				value, path = "true", []string{"automountServiceAccountToken"}
			}
			return []posture.Result{{Path: path,
				Message:  "ServiceAccount default of namespace " + nsName(in.Object.Ref.Namespace) + " does not set automountServiceAccountToken: false (it is " + value + ").",
				Evidence: []finding.Evidence{key("automountServiceAccountToken", value)}}}
		}}},
	}
}

// nsName names a namespace for a message, "" being the one applied to.
func nsName(ns string) string {
	if ns == "" {
		return "(unset)"
	}
	return ns
}
