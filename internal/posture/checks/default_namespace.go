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
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: func(in *posture.Input) []posture.Result { return inDefaultNamespace(in.Object, false) }},
			{MinVersion: 10, Eval: func(in *posture.Input) []posture.Result { return inDefaultNamespace(in.Object, true) }},
		},
	}
}

// inDefaultNamespace reports o at low severity when it is in the default
// namespace, and at info when it is from a manifest that sets no
// namespace (it lands in default unless applied with -n). With charts,
// from version 10, an object Helm put in default only because the chart
// was rendered without --namespace counts as setting none: installed, it
// lands in the release's namespace.
func inDefaultNamespace(o *kube.Object, charts bool) []posture.Result {
	if o.Source.File != "" {
		switch {
		case o.Ref.Namespace == "":
			return unsetNamespace(o, " sets no namespace: it lands in default unless applied with -n.")
		case charts && o.Source.NamespaceAssumed:
			return unsetNamespace(o, " is in default only because the chart was rendered without --namespace: installed, it lands in the release's namespace.")
		}
	}
	if o.Ref.Namespace != "default" {
		return nil
	}
	return []posture.Result{{Path: []string{"metadata", "namespace"},
		Message:  o.Ref.Kind + " " + o.Ref.Name + " is in the default namespace.",
		Evidence: []finding.Evidence{key("namespace", "default")}}}
}

func unsetNamespace(o *kube.Object, why string) []posture.Result {
	return []posture.Result{{Path: []string{"metadata"}, Severity: finding.SeverityInfo,
		Message:  o.Ref.Kind + " " + o.Ref.Name + why,
		Evidence: []finding.Evidence{key("namespace", "unset")}}}
}
