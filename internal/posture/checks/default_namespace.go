package checks

// CIS Kubernetes Benchmark 5.7.4: "The default namespace should not be
// used. Resources in a Kubernetes cluster should be segregated by
// namespace." An explicit "default" is reported at low severity; a
// manifest without a namespace at info, since it lands in default unless
// applied with -n or by a tool that sets one (as kube-linter, Trivy,
// Checkov and Kubescape also report it).

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// DefaultNamespace reports workloads in the default namespace.
func DefaultNamespace() posture.Check {
	return posture.Check{
		ID:          "default-namespace",
		Title:       "Workload runs in the default namespace",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "namespace",
		Rationale:   "The default namespace has no boundary of its own: RBAC, quotas and network policies meant for one application reach every other one there.",
		Remediation: "Create a namespace per application or team and deploy into it.",
		Scope:       posture.ScopeWorkload,
		Versions: v1(func(in *posture.Input) []posture.Result {
			return inDefaultNamespace(in.Object)
		}),
	}
}

// inDefaultNamespace reports o at low severity when it is in the default
// namespace, and at info when it is from a manifest that sets no
// namespace (it lands in default unless applied with -n).
func inDefaultNamespace(o *kube.Object) []posture.Result {
	if o.Ref.Namespace == "" && o.Source.File != "" {
		return []posture.Result{{Path: []string{"metadata"}, Severity: finding.SeverityInfo,
			Message:  o.Ref.Kind + " " + o.Ref.Name + " sets no namespace: it lands in default unless applied with -n.",
			Evidence: []finding.Evidence{key("namespace", "unset")}}}
	}
	if o.Ref.Namespace != "default" {
		return nil
	}
	return []posture.Result{{Path: []string{"metadata", "namespace"},
		Message:  o.Ref.Kind + " " + o.Ref.Name + " is in the default namespace.",
		Evidence: []finding.Evidence{key("namespace", "default")}}}
}
