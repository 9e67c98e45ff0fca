package checks

// CIS Kubernetes Benchmark 5.2.6: "Minimize the admission of containers
// with allowPrivilegeEscalation. Do not generally permit containers to be
// run with the allowPrivilegeEscalation flag set to true." The flag
// defaults to true on Linux, so a container that does not set it to false
// may gain privileges through setuid binaries.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// AllowPrivilegeEscalation reports containers that do not set
// allowPrivilegeEscalation: false.
func AllowPrivilegeEscalation() posture.Check {
	return posture.Check{
		ID:          "allow-privilege-escalation",
		Title:       "Container allows privilege escalation",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "Without allowPrivilegeEscalation: false, setuid binaries can give a process more privileges than its parent (no_new_privs is off).",
		Remediation: "Set securityContext.allowPrivilegeEscalation: false on every container.",
		Scope:       posture.ScopeWorkload,
		Versions: v1(func(in *posture.Input) []posture.Result {
			if isWindows(in.Workload.PodSpec) {
				return nil
			}
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				ape := containerSC(c.Container).AllowPrivilegeEscalation
				switch {
				case ape == nil:
					return []posture.Result{{Path: cpath(in, c, "securityContext"),
						Message:  "Container " + c.Container.Name + " does not set allowPrivilegeEscalation: false (it defaults to true).",
						Evidence: []finding.Evidence{key("allowPrivilegeEscalation", "unset")}}}
				case *ape:
					return []posture.Result{{Path: cpath(in, c, "securityContext", "allowPrivilegeEscalation"), Severity: finding.SeverityHigh,
						Message:  "Container " + c.Container.Name + " sets allowPrivilegeEscalation: true.",
						Evidence: []finding.Evidence{key("allowPrivilegeEscalation", "true")}}}
				}
				return nil
			})
		}),
	}
}
