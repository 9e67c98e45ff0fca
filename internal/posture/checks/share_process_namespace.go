package checks

// shareProcessNamespace: true puts every container of a pod in one PID
// namespace: each sees the others' processes, can signal them, read their
// environment and command lines, and — as the same user, or with
// SYS_PTRACE — open /proc/<pid>/root to read and write the other
// container's filesystem, secrets and service account token included.
// One compromised container (a sidecar, a log shipper) then owns its
// neighbours (KubeHound SHARE_PS_NAMESPACE, MITRE ATT&CK T1080 "Taint
// Shared Content", lateral movement). Init containers run to completion
// before the others start and are not counted, except restartable
// (sidecar) init containers, which keep running.

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// ShareProcessNamespace reports pods whose containers share one process
// namespace.
func ShareProcessNamespace() posture.Check {
	return posture.Check{
		ID:          "share-process-namespace",
		Title:       "Pod containers share one process namespace",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "With a shared process namespace each container can signal the others' processes and read their environment and, through /proc/<pid>/root, their files and tokens: one compromised container reaches all.",
		Remediation: "Remove shareProcessNamespace; to debug a pod, attach an ephemeral container with kubectl debug --target instead.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{{MinVersion: 4, Eval: func(in *posture.Input) []posture.Result {
			spec := in.Workload.PodSpec
			if spec.ShareProcessNamespace == nil || !*spec.ShareProcessNamespace {
				return nil
			}
			names := runningContainers(spec)
			if len(names) < 2 {
				// Alone in the namespace, with only the pause process: no
				// neighbour to reach.
				return nil
			}
			return []posture.Result{{
				Path:     spath(in, "shareProcessNamespace"),
				Message:  "The pod sets shareProcessNamespace: true, so containers " + strings.Join(names, ", ") + " see and can reach each other's processes.",
				Evidence: []finding.Evidence{key("field", "shareProcessNamespace"), ev("containers", strings.Join(names, ","))},
			}}
		}}},
	}
}

// runningContainers names the containers that run side by side: the
// regular ones and restartable (sidecar) init containers.
func runningContainers(spec *corev1.PodSpec) []string {
	var out []string
	for _, c := range spec.InitContainers {
		if isSidecar(&c) {
			out = append(out, c.Name)
		}
	}
	for _, c := range spec.Containers {
		out = append(out, c.Name)
	}
	return out
}
