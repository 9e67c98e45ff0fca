package exposure

import (
	"fmt"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
)

// Workloads returns the exposed workloads of every inventory, with every
// way in (Graph.Reachable over AnalyzePerPod), as a report lists them.
// It is never nil: an empty list says that nothing is exposed. The report counts findings and
// orders by risk (finding.Report.SetExposed).
func Workloads(invs ...*kube.Inventory) []finding.ExposedWorkload {
	out := []finding.ExposedWorkload{}
	for _, inv := range invs {
		for _, e := range AnalyzePerPod(inv).Reachable(inv) {
			o := e.Workload.Object
			w := finding.ExposedWorkload{Resource: finding.Resource{
				Cluster: o.Source.Cluster, Namespace: o.Ref.Namespace, APIVersion: o.Ref.APIVersion,
				Kind: o.Ref.Kind, Name: o.Ref.Name, File: o.Source.File, Line: o.Source.Line,
			}}
			// One way in is listed once: a Service met twice (the same
			// manifests in two files of a scanned tree) is one way in.
			seen := map[reportedPathKey]bool{}
			for _, p := range e.Paths {
				rp := reportPath(p)
				if k := reportedKeyOf(rp); !seen[k] {
					seen[k] = true
					w.Paths = append(w.Paths, rp)
				}
			}
			out = append(out, w)
		}
	}
	return out
}

// reportedPathKey is an ExposurePath as a map key: TLS by value, not pointer.
type reportedPathKey struct {
	p   finding.ExposurePath
	tls string
}

func reportedKeyOf(p finding.ExposurePath) reportedPathKey {
	k := reportedPathKey{p: p, tls: "unknown"}
	if p.TLS != nil {
		k.tls = fmt.Sprint(*p.TLS)
	}
	k.p.TLS = nil
	return k
}

func reportPath(p Path) finding.ExposurePath {
	rp := finding.ExposurePath{Via: p.Exposure, Port: p.Port, Container: p.Container}
	if p.ServiceRef.Name != "" {
		rp.Service = p.ServiceRef.Namespace + "/" + p.ServiceRef.Name
	}
	if p.IngressRef != nil {
		tls := p.TLS
		rp.Ingress = p.IngressRef.Namespace + "/" + p.IngressRef.Name
		rp.Host, rp.Path, rp.TLS = p.Host, p.HTTPPath, &tls
	}
	// A gateway path names its Gateway where an Ingress path names the
	// Ingress: both are the object traffic enters at. TLS is unknown when
	// the Gateway is not in the inventory.
	if p.GatewayRef != nil {
		rp.Ingress = p.GatewayRef.Namespace + "/" + p.GatewayRef.Name
		rp.Host, rp.Path = p.Host, p.HTTPPath
		if p.Gateway != nil {
			tls := p.TLS
			rp.TLS = &tls
		}
	}
	return rp
}
