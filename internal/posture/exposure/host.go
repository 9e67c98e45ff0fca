package exposure

import (
	"cmp"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/kube"
)

// The Path.Exposure of ways in that bypass Services: the pod shares its
// node's network namespace, or a container port is bound on the node.
const (
	ExposureHostNetwork = "hostNetwork"
	ExposureHostPort    = "hostPort"
)

// Reachable returns every workload of inv reachable from outside with all
// its ways in: the Service and Ingress paths of g, then the host paths
// (hostNetwork, hostPort), which reach a pod on its node's addresses
// without any Service. Checks judge the Service and Ingress paths only
// (internet-exposed-workload; host networking and host ports have checks
// of their own); a report lists both, because a node address reachable
// from outside exposes a hostPort as much as a NodePort. g must be
// Analyze(inv) or AnalyzeGateways(inv); it is not changed. Sorted by reference.
func (g *Graph) Reachable(inv *kube.Inventory) []*Exposure {
	out := make([]*Exposure, 0, len(g.exposed))
	idx := make(map[*kube.Object]*Exposure, len(g.exposed))
	for _, e := range g.exposed {
		c := &Exposure{Workload: e.Workload, Ref: e.Ref, Paths: slices.Clone(e.Paths)}
		out = append(out, c)
		idx[e.Workload.Object] = c
	}
	for _, w := range inv.Workloads {
		hp := hostPaths(w)
		if len(hp) == 0 {
			continue
		}
		e := idx[w.Object]
		if e == nil {
			e = &Exposure{Workload: w, Ref: w.Object.Ref}
			idx[w.Object] = e
			out = append(out, e)
		}
		e.Paths = append(e.Paths, hp...)
	}
	slices.SortStableFunc(out, func(a, b *Exposure) int {
		return cmp.Or(cmp.Compare(a.Workload.Object.Source.Cluster, b.Workload.Object.Source.Cluster), cmp.Compare(a.Ref.String(), b.Ref.String()))
	})
	return out
}

// hostPaths returns w's ways in on its node: hostNetwork (which makes every
// listening port a node port, so container hostPorts add nothing), else
// one path per container port with a hostPort.
func hostPaths(w *kube.Workload) []Path {
	if w.PodSpec.HostNetwork {
		return []Path{{Exposure: ExposureHostNetwork}}
	}
	var out []Path
	for _, cs := range [][]corev1.Container{w.PodSpec.InitContainers, w.PodSpec.Containers} {
		for _, c := range cs {
			for _, p := range c.Ports {
				if p.HostPort == 0 {
					continue
				}
				proto := string(p.Protocol)
				if proto == "" {
					proto = string(corev1.ProtocolTCP)
				}
				out = append(out, Path{Exposure: ExposureHostPort, Port: strconv.Itoa(int(p.HostPort)) + "/" + proto, Container: c.Name})
			}
		}
	}
	return out
}
