package checks

// CIS Kubernetes Benchmark 5.2.10: "Minimize the admission of containers
// with capabilities assigned. Do not generally permit containers with
// capabilities." Pod Security Standards restricted: "Containers must drop
// ALL capabilities."

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// DropAllCapabilities reports containers that do not drop ALL capabilities.
func DropAllCapabilities() posture.Check {
	return posture.Check{
		ID:          "drop-all-capabilities",
		Title:       "Container does not drop all capabilities",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "workload",
		Rationale:   "The container runtime's default capability set (CHOWN, NET_RAW, SETUID, …) is more than most applications need.",
		Remediation: "Set securityContext.capabilities.drop: [ALL] and add back only what the application needs.",
		Scope:       posture.ScopeWorkload,
		Versions: v1(func(in *posture.Input) []posture.Result {
			if isWindows(in.Workload.PodSpec) {
				return nil
			}
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				sc := containerSC(c.Container)
				if sc.Capabilities != nil {
					for _, d := range sc.Capabilities.Drop {
						if normCap(string(d)) == "ALL" {
							return nil
						}
					}
				}
				return []posture.Result{{Path: cpath(in, c, "securityContext"),
					Message:  "Container " + c.Container.Name + " does not drop ALL capabilities.",
					Evidence: []finding.Evidence{key("capabilities.drop", "no ALL")}}}
			})
		}),
	}
}
