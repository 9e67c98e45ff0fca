package checks

// NSA/CISA Kubernetes Hardening Guide: "Use immutable container file
// systems: ... run containers with a read-only root filesystem." CIS
// Kubernetes Benchmark 5.7.3: "Apply Security Context to Your Pods and
// Containers."

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// ReadOnlyRootFilesystem reports containers with a writable root filesystem.
func ReadOnlyRootFilesystem() posture.Check {
	return posture.Check{
		ID:          "read-only-root-filesystem",
		Title:       "Container root filesystem is writable",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "workload",
		Rationale:   "A writable root filesystem lets an attacker drop tools and persist changes inside the container.",
		Remediation: "Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes where the application writes.",
		Scope:       posture.ScopeWorkload,
		Versions: v1(func(in *posture.Input) []posture.Result {
			if isWindows(in.Workload.PodSpec) {
				return nil
			}
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				ro := containerSC(c.Container).ReadOnlyRootFilesystem
				if ro != nil && *ro {
					return nil
				}
				return []posture.Result{{Path: cpath(in, c, "securityContext"),
					Message:  "Container " + c.Container.Name + " does not set readOnlyRootFilesystem: true.",
					Evidence: []finding.Evidence{key("readOnlyRootFilesystem", "not true")}}}
			})
		}),
	}
}
