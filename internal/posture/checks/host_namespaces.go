package checks

// CIS Kubernetes Benchmark 5.2.3–5.2.5: "Minimize the admission of
// containers wishing to share the host process ID namespace / the host IPC
// namespace / the host network namespace."

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// HostNamespaces reports pods sharing the host's network, PID or IPC namespace.
func HostNamespaces() posture.Check {
	return posture.Check{
		ID:          "host-namespaces",
		Title:       "Pod shares a host namespace",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "workload",
		Rationale:   "Sharing the host's network, PID or IPC namespace exposes node services, other processes and shared memory to the pod.",
		Remediation: "Remove hostNetwork, hostPID and hostIPC from the pod spec, or set them to false.",
		Scope:       posture.ScopeWorkload,
		Versions: v1(func(in *posture.Input) []posture.Result {
			s := in.Workload.PodSpec
			var out []posture.Result
			for _, h := range []struct {
				on    bool
				field string
			}{{s.HostNetwork, "hostNetwork"}, {s.HostPID, "hostPID"}, {s.HostIPC, "hostIPC"}} {
				if h.on {
					out = append(out, posture.Result{
						Path:     spath(in, h.field),
						Message:  "Pod sets " + h.field + ": true.",
						Evidence: []finding.Evidence{key("field", h.field)},
					})
				}
			}
			return out
		}),
	}
}
