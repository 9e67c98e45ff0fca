package checks

// Pod Security Standards, Baseline: "Minimally restrictive policy which
// prevents known privilege escalations. Allows the default (minimally
// specified) Pod configuration." Evaluated by k8s.io/pod-security-admission.

import (
	psaapi "k8s.io/pod-security-admission/api"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// PSSBaseline reports pods that the Pod Security Standards baseline level
// forbids, one finding per forbidden reason.
func PSSBaseline() posture.Check {
	pss := newPSSEvaluator(psaapi.LevelBaseline)
	return posture.Check{
		ID:          "pss-baseline",
		Title:       "Pod violates the Pod Security Standards baseline level",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "workload",
		Rationale:   "The baseline level forbids known privilege escalations; a namespace enforcing it would refuse this pod.",
		Remediation: "Remove the forbidden settings named in the finding, or run the workload in a namespace whose exception is reviewed.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: func(in *posture.Input) []posture.Result {
				return pss.results(in, psaapi.LevelBaseline, false)
			}},
			// Version 6 judges a hostNetwork pod with the hostPorts the API
			// server defaults before PodSecurity admission sees it
			// (host_port.go), as the live scan of the stored pod does.
			{MinVersion: 6, Eval: func(in *posture.Input) []posture.Result {
				return pss.results(withHostNetworkPorts(in), psaapi.LevelBaseline, false)
			}},
		},
	}
}
