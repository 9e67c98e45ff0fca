package checks

// Pod Security Standards, Restricted: "Heavily restricted policy, following
// current Pod hardening best practices." Evaluated by
// k8s.io/pod-security-admission; only the checks the restricted level adds
// are evaluated here, baseline's are pss-baseline's, so each problem is
// reported once.

import (
	psaapi "k8s.io/pod-security-admission/api"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// PSSRestricted reports what the restricted level forbids beyond baseline.
func PSSRestricted() posture.Check {
	pss := newPSSEvaluator(psaapi.LevelRestricted)
	return posture.Check{
		ID:          "pss-restricted",
		Title:       "Pod violates the Pod Security Standards restricted level",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "The restricted level is current pod hardening practice; a namespace enforcing it would refuse this pod.",
		Remediation: "Run as non-root, drop ALL capabilities, set allowPrivilegeEscalation: false and a RuntimeDefault seccomp profile.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: func(in *posture.Input) []posture.Result {
				return pss.results(in, psaapi.LevelRestricted, false)
			}},
			// Version 3 judges the pod the API server stores: a volume
			// with no source is an emptyDir (see apiDefaults).
			{MinVersion: 3, Eval: func(in *posture.Input) []posture.Result {
				return pss.results(in, psaapi.LevelRestricted, true)
			}},
		},
	}
}
