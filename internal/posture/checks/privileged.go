package checks

// CIS Kubernetes Benchmark 5.2.2: "Minimize the admission of privileged
// containers. Do not generally permit containers to be run with the
// securityContext.privileged flag set to true."

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// Privileged reports containers running privileged.
func Privileged() posture.Check {
	return posture.Check{
		ID:          "privileged",
		Title:       "Container runs privileged",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityCritical,
		Category:    "workload",
		Rationale:   "A privileged container has every capability and the host's devices: escaping to the node is trivial.",
		Remediation: "Remove securityContext.privileged, or set it to false; add only the specific capabilities needed.",
		Scope:       posture.ScopeWorkload,
		Versions: v1(func(in *posture.Input) []posture.Result {
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				sc := containerSC(c.Container)
				if sc.Privileged == nil || !*sc.Privileged {
					return nil
				}
				return []posture.Result{{
					Path:     cpath(in, c, "securityContext", "privileged"),
					Message:  "Container " + c.Container.Name + " sets securityContext.privileged: true.",
					Evidence: []finding.Evidence{key("field", "securityContext.privileged")},
				}}
			})
		}),
	}
}
