package checks

// CIS Kubernetes Benchmark 5.2.1: "Ensure that the cluster has at least one
// active policy control mechanism in place." Pod Security Admission is
// switched on per namespace by the label
// pod-security.kubernetes.io/enforce.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

const psaEnforceLabel = "pod-security.kubernetes.io/enforce"

// NamespacePSALabels reports namespaces that do not enforce a Pod Security level.
func NamespacePSALabels() posture.Check {
	return posture.Check{
		ID:          "namespace-psa-labels",
		Title:       "Namespace does not enforce a Pod Security Standard",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "namespace",
		Rationale:   "Without the enforce label, Pod Security Admission admits privileged pods into the namespace.",
		Remediation: "Label the namespace pod-security.kubernetes.io/enforce=baseline (or restricted).",
		Scope:       posture.ScopeObject,
		Kinds:       []string{"Namespace"},
		Versions: v1(func(in *posture.Input) []posture.Result {
			o := in.Object
			if systemNamespace(o.Ref.Name) {
				return nil
			}
			switch level := o.Meta.Labels[psaEnforceLabel]; level {
			case "baseline", "restricted":
				return nil
			case "privileged":
				return []posture.Result{{Path: []string{"metadata", "labels"}, Severity: finding.SeverityLow,
					Message:  "Namespace " + o.Ref.Name + " enforces the privileged level, which allows anything.",
					Evidence: []finding.Evidence{key("enforce", level)}}}
			}
			return []posture.Result{{Path: []string{"metadata"},
				Message:  "Namespace " + o.Ref.Name + " has no " + psaEnforceLabel + " label.",
				Evidence: []finding.Evidence{key("enforce", "none")}}}
		}),
	}
}
