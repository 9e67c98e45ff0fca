package checks

// CIS Kubernetes Benchmark 5.2.13: "Minimize the admission of containers
// which use HostPorts. Do not generally permit containers which require the
// use of HostPorts."

import (
	"strconv"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// HostPort reports container ports bound on the node.
func HostPort() posture.Check {
	return posture.Check{
		ID:          "host-port",
		Title:       "Container binds a host port",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "A hostPort exposes the container on the node's address, bypassing Services and most NetworkPolicies, and pins it to nodes with the port free.",
		Remediation: "Remove hostPort and expose the container through a Service.",
		Scope:       posture.ScopeWorkload,
		Versions: v1(func(in *posture.Input) []posture.Result {
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				var out []posture.Result
				for i, p := range c.Container.Ports {
					if p.HostPort == 0 {
						continue
					}
					hp := strconv.Itoa(int(p.HostPort))
					out = append(out, posture.Result{
						Path:     cpath(in, c, "ports", itoa(i), "hostPort"),
						Message:  "Container " + c.Container.Name + " binds host port " + hp + ".",
						Evidence: []finding.Evidence{key("hostPort", hp)},
					})
				}
				return out
			})
		}),
	}
}
