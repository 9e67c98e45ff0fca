package finding

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ExposedWorkload is a workload reachable from outside its cluster, every
// way in, and how bad its open findings are: the list a posture report
// shows besides the findings, so an exposed workload is known as exposed
// whichever check flagged it. Reports order the list by risk (see
// sortExposed).
type ExposedWorkload struct {
	// Resource names the workload: cluster (live scans), namespace, kind
	// and name, and file and line for manifests.
	Resource Resource       `json:"resource"`
	Paths    []ExposurePath `json:"paths"`
	// OpenFindings counts the report's open findings on the workload (any
	// check, any container), and WorstSeverity is the most severe of them;
	// absent when there are none. Writers compute both from the findings,
	// so they cannot contradict them.
	OpenFindings  int      `json:"openFindings"`
	WorstSeverity Severity `json:"worstSeverity,omitzero"`
}

// ExposurePath is one way in to an exposed workload.
type ExposurePath struct {
	// Via is how it is reached: Ingress, LoadBalancer, NodePort,
	// externalIPs, hostPort or hostNetwork.
	Via string `json:"via"`
	// Ingress ("namespace/name"), Host and Path name the Ingress rule of an
	// Ingress path (host "" is the default backend or any host).
	Ingress string `json:"ingress,omitempty"`
	Host    string `json:"host,omitempty"`
	Path    string `json:"path,omitempty"`
	// Service ("namespace/name") is the Service the path goes through;
	// empty for hostPort and hostNetwork.
	Service string `json:"service,omitempty"`
	// Port is the Service port reached, or a hostPort's "port/protocol".
	Port string `json:"port,omitempty"`
	// Container is the container a hostPort belongs to.
	Container string `json:"container,omitempty"`
	// TLS says whether an Ingress path's host (or a scanned gateway's
	// listener) is served with TLS; absent for the others, whose protocol
	// Palisade cannot see.
	TLS *bool `json:"tls,omitempty"`
}

// The ExposurePath.Via values.
const (
	ViaIngress      = "Ingress"
	ViaLoadBalancer = "LoadBalancer"
	ViaNodePort     = "NodePort"
	ViaExternalIPs  = "externalIPs"
	ViaHostPort     = "hostPort"
	ViaHostNetwork  = "hostNetwork"
	// ViaGateway and ViaIstioGateway are Gateway API and Istio gateways:
	// Ingress names the Gateway, Host and Path the route's match.
	ViaGateway      = "Gateway"
	ViaIstioGateway = "IstioGateway"
)

// plaintext reports whether p is known to carry traffic without TLS: an
// Ingress host served without it. Other ways in are not known either way.
func (p ExposurePath) plaintext() bool { return p.TLS != nil && !*p.TLS }

// String renders the path for tables and pages: "Ingress shop/web
// (shop.example.com/api) → Service shop/web:80", "NodePort Service
// shop/web", "hostPort 8080/TCP (container app)", "hostNetwork".
func (p ExposurePath) String() string {
	switch p.Via {
	case ViaIngress:
		host := cmp.Or(p.Host, "*")
		s := "Ingress " + p.Ingress + " (" + host + p.Path + ") → Service " + p.Service
		if p.Port != "" {
			s += ":" + p.Port
		}
		return s
	case ViaGateway, ViaIstioGateway:
		kind := map[string]string{ViaGateway: "Gateway", ViaIstioGateway: "Istio Gateway"}[p.Via]
		s := kind + " " + p.Ingress + " (" + cmp.Or(p.Host, "*") + p.Path + ") → Service " + p.Service
		if p.Port != "" {
			s += ":" + p.Port
		}
		return s
	case ViaHostPort:
		return "hostPort " + p.Port + " (container " + p.Container + ")"
	case ViaHostNetwork:
		return "hostNetwork"
	}
	s := p.Via + " Service " + p.Service
	if p.Port != "" {
		s += ":" + p.Port
	}
	return s
}

// tlsText is the TLS cell of a path: yes, no, or "-" when not known.
func (p ExposurePath) tlsText() string {
	switch {
	case p.TLS == nil:
		return "-"
	case *p.TLS:
		return "yes"
	}
	return "no"
}

// SetExposed records ws as the report's exposed workloads (an empty, non-nil
// list says none is exposed), with their open findings counted from the
// report's findings and sorted by risk, as writers render them.
func (r *Report) SetExposed(ws []ExposedWorkload) error {
	if ws == nil {
		ws = []ExposedWorkload{}
	}
	p, err := prepareExposed(ws, r.Findings)
	if err != nil {
		return err
	}
	r.Exposed = p
	return nil
}

// prepareExposed returns a copy of ws with OpenFindings and WorstSeverity
// computed from fs and sorted by risk, or an error for an entry no writer
// can render (no kind, neither name nor file, no way in).
func prepareExposed(ws []ExposedWorkload, fs []Finding) ([]ExposedWorkload, error) {
	if ws == nil {
		return nil, nil
	}
	type key struct{ cluster, ns, kind, name string }
	open := map[key][]Severity{}
	for i := range fs {
		if f := &fs[i]; f.Open() {
			r := f.Resource
			k := key{r.Cluster, r.Namespace, r.Kind, r.Name}
			open[k] = append(open[k], f.Severity)
		}
	}
	out := make([]ExposedWorkload, len(ws))
	for i, w := range ws {
		// A manifest without metadata.name is still a workload a scan
		// can point at, by file and line.
		if w.Resource.Kind == "" || (w.Resource.Name == "" && w.Resource.File == "") {
			return nil, fmt.Errorf("exposed workload %d: no kind, or neither name nor file", i)
		}
		if len(w.Paths) == 0 {
			return nil, fmt.Errorf("exposed workload %s: no way in", w.Resource.objectKey())
		}
		w.Paths = slices.Clone(w.Paths)
		r := w.Resource
		sevs := open[key{r.Cluster, r.Namespace, r.Kind, r.Name}]
		w.OpenFindings, w.WorstSeverity = len(sevs), SeverityUnknown
		for _, s := range sevs {
			w.WorstSeverity = max(w.WorstSeverity, s)
		}
		out[i] = w
	}
	sortExposed(out)
	return out, nil
}

// sortExposed orders exposed workloads by risk: the worst open finding
// first (a privileged workload behind a LoadBalancer before a hardened
// one), then those reached without TLS on some Ingress path, then those
// with more ways in, then by cluster, namespace, kind and name.
func sortExposed(ws []ExposedWorkload) {
	plain := func(w *ExposedWorkload) int {
		if slices.ContainsFunc(w.Paths, ExposurePath.plaintext) {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(ws, func(a, b ExposedWorkload) int {
		return cmp.Or(
			cmp.Compare(b.WorstSeverity, a.WorstSeverity),
			cmp.Compare(plain(&b), plain(&a)),
			cmp.Compare(len(b.Paths), len(a.Paths)),
			strings.Compare(a.Resource.Key(), b.Resource.Key()),
		)
	})
}

// maxPath is the column limit of an exposure path, in runes.
const maxPath = 120

// exposedSection renders the exposed workloads, one row per way in: the
// worst open finding and the workload on the first row of each.
func exposedSection(ws []ExposedWorkload) ([]tableLine, error) {
	if len(ws) == 0 {
		return []tableLine{{text: "No exposed workloads."}, {}}, nil
	}
	lines := []tableLine{
		{text: fmt.Sprintf("EXPOSED WORKLOADS (%d)", len(ws)), sgr: sgrBold},
		{cells: []string{"WORST", "OPEN", "WORKLOAD", "LOCATION", "EXPOSED VIA", "TLS"}, sgr: sgrBold},
	}
	for _, w := range ws {
		worst := "-"
		if w.OpenFindings > 0 {
			worst = w.WorstSeverity.String()
		}
		for i, p := range w.Paths {
			row := []string{"", "", "", "", truncate(cleanText(p.String()), maxPath), p.tlsText()}
			if i == 0 {
				row[0], row[1], row[2], row[3] = worst, strconv.Itoa(w.OpenFindings), resourceCell(w.Resource), locationCell(w.Resource)
			}
			l := tableLine{cells: row}
			if i == 0 && w.OpenFindings > 0 {
				l.sgr, l.firstCell = severitySGR(w.WorstSeverity), true
			}
			lines = append(lines, l)
		}
	}
	if err := align(lines, "  "); err != nil {
		return nil, err
	}
	return append(lines, tableLine{}), nil
}
