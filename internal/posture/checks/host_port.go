package checks

// CIS Kubernetes Benchmark 5.2.13: "Minimize the admission of containers
// which use HostPorts. Do not generally permit containers which require the
// use of HostPorts."

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"

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
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: hostPorts(false)},
			// Version 6 judges a hostNetwork pod as the API server stores
			// it: SetDefaults_Pod sets hostPort := containerPort on every
			// port of a hostNetwork pod's containers and init containers,
			// so version 1 reported such a Pod live but not in its
			// manifest, nor ever in a Deployment whose template the server
			// no longer defaults (Kubernetes ≥ 1.28) although every pod it
			// creates is. The port is bound on the node either way, and
			// PodSecurity baseline refuses the stored pod for it.
			{MinVersion: 6, Eval: hostPorts(true)},
		},
	}
}

// hostPorts returns host-port's evaluation; hostNetwork counts a declared
// containerPort of a hostNetwork pod as a host port.
func hostPorts(hostNetwork bool) func(in *posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		onHost := hostNetwork && in.Workload.PodSpec.HostNetwork
		return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
			var out []posture.Result
			for i, p := range c.Container.Ports {
				port, field := p.HostPort, "hostPort"
				if port == 0 && onHost && c.List != "ephemeralContainers" {
					port, field = p.ContainerPort, "containerPort"
				}
				if port == 0 {
					continue
				}
				hp := strconv.Itoa(int(port))
				r := posture.Result{
					Path:     cpath(in, c, "ports", itoa(i), field),
					Message:  "Container " + c.Container.Name + " binds host port " + hp + ".",
					Evidence: []finding.Evidence{key("hostPort", hp)},
				}
				if onHost {
					// The same words whether the manifest wrote hostPort or
					// the API server defaulted it: live and manifest agree.
					r.Message = "Container " + c.Container.Name + " binds host port " + hp + " (hostNetwork: its container ports are the node's)."
					r.Evidence = append(r.Evidence, ev("hostNetwork", "true"))
				}
				out = append(out, r)
			}
			return out
		})
	}
}

// withHostNetworkPorts returns in with its workload's pod spec as the API
// server stores a pod of it: under hostNetwork, each container and init
// container port without a hostPort gets hostPort := containerPort
// (SetDefaults_Pod). PodSecurity admission judges that stored pod, so
// pss-baseline judges it too. in itself is not changed; it is returned as
// it is when nothing would be defaulted.
func withHostNetworkPorts(in *posture.Input) *posture.Input {
	s := in.Workload.PodSpec
	if !s.HostNetwork || !defaultHostPorts(s.InitContainers, false) && !defaultHostPorts(s.Containers, false) {
		return in
	}
	spec := s.DeepCopy()
	defaultHostPorts(spec.InitContainers, true)
	defaultHostPorts(spec.Containers, true)
	w := *in.Workload
	w.PodSpec = spec
	out := *in
	out.Workload = &w
	return &out
}

// defaultHostPorts reports whether a port of cs has no hostPort and, with
// set, gives it its containerPort.
func defaultHostPorts(cs []corev1.Container, set bool) bool {
	found := false
	for i := range cs {
		for j := range cs[i].Ports {
			if p := &cs[i].Ports[j]; p.HostPort == 0 {
				found = true
				if set {
					p.HostPort = p.ContainerPort
				}
			}
		}
	}
	return found
}
