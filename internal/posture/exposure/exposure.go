// Package exposure computes which workloads are reachable from outside the
// cluster, and by which path: Ingress (rule or default backend, with or
// without TLS) → Service (selector, type, ports, externalIPs) → the
// workloads whose pod template labels the Service's selector matches, or a
// LoadBalancer, NodePort or externalIPs Service → workloads; with
// AnalyzeGateways also Gateway API Gateway → route → Service and Istio
// Gateway → VirtualService → Service (gateway.go, istio.go); and, for
// reports (Graph.Reachable), pods bound to their node's addresses with
// hostNetwork or hostPort. It is data for checks, reports and the security
// graph; it makes no judgement itself.
package exposure

import (
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/palisade-sec/palisade/internal/kube"
)

// Path is one way in to a workload.
type Path struct {
	// Ingress is the Ingress the path starts at; nil when the Service itself
	// is reachable from outside.
	Ingress *kube.Object `json:"-"`
	// IngressRef names Ingress, Host and HTTPPath the rule ("" and "*"
	// for the default backend), and TLS whether the host is served with TLS.
	IngressRef *kube.Ref `json:"ingress,omitempty"`
	Host       string    `json:"host,omitempty"`
	HTTPPath   string    `json:"path,omitempty"`
	TLS        bool      `json:"tls"`
	// Service is the Service the path goes through, and ServiceRef its name.
	Service    *kube.Object `json:"-"`
	ServiceRef kube.Ref     `json:"service"`
	// Exposure is how the Service is reached: Ingress, LoadBalancer,
	// NodePort or externalIPs.
	Exposure string `json:"exposure"`
	// Port is the Service port the path reaches ("" when every port), or
	// for a hostPort path the node port and protocol ("8080/TCP").
	Port string `json:"port,omitempty"`
	// Container is the container a hostPort path reaches.
	Container string `json:"container,omitempty"`
	// Gateway is the Gateway API or Istio Gateway a gateway path enters
	// at; nil, with GatewayRef still set, when a route names a Gateway the
	// scanned files do not hold (see gateway.go). Listener names the
	// listener (Istio: server) and its port and protocol, "https
	// 443/HTTPS"; TLS then says whether it terminates or passes TLS.
	Gateway    *kube.Object `json:"-"`
	GatewayRef *kube.Ref    `json:"gateway,omitempty"`
	Listener   string       `json:"listener,omitempty"`
	// Route is the HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute or
	// VirtualService that sends the gateway's traffic to the Service.
	Route    *kube.Object `json:"-"`
	RouteRef *kube.Ref    `json:"route,omitempty"`
}

// The Path.Exposure of gateway paths.
const (
	ExposureGateway      = "Gateway"      // Gateway API
	ExposureIstioGateway = "IstioGateway" // networking.istio.io
)

// String renders the path as "Ingress ns/name (host/path, TLS) → Service
// ns/name:port (type)".
func (p Path) String() string {
	switch p.Exposure {
	case ExposureHostNetwork:
		return "hostNetwork (every port the pod listens on, on its node's addresses)"
	case ExposureHostPort:
		return "hostPort " + p.Port + " (container " + p.Container + ")"
	}
	var b strings.Builder
	if p.GatewayRef != nil {
		b.WriteString(p.gatewayString())
	}
	if p.IngressRef != nil {
		b.WriteString("Ingress " + p.IngressRef.Namespace + "/" + p.IngressRef.Name + " (")
		host := p.Host
		if host == "" {
			host = "*"
		}
		b.WriteString(host + p.HTTPPath)
		if p.TLS {
			b.WriteString(", TLS) → ")
		} else {
			b.WriteString(", no TLS) → ")
		}
	}
	b.WriteString("Service " + p.ServiceRef.Namespace + "/" + p.ServiceRef.Name)
	if p.Port != "" {
		b.WriteString(":" + p.Port)
	}
	if p.IngressRef == nil && p.GatewayRef == nil {
		b.WriteString(" (" + p.Exposure + ")")
	}
	return b.String()
}

// gatewayString renders the gateway and route hops of a gateway path:
// "Gateway ns/name (https 443/HTTPS, TLS) → HTTPRoute ns/name
// (host/path) → ".
func (p Path) gatewayString() string {
	var b strings.Builder
	if p.Exposure == ExposureIstioGateway {
		b.WriteString("Istio ")
	}
	b.WriteString("Gateway " + p.GatewayRef.Namespace + "/" + p.GatewayRef.Name)
	switch {
	case p.Gateway == nil:
		b.WriteString(" (not in the scanned objects)")
	case p.TLS:
		b.WriteString(" (" + p.Listener + ", TLS)")
	default:
		b.WriteString(" (" + p.Listener + ", no TLS)")
	}
	b.WriteString(" → ")
	if p.RouteRef != nil {
		host := p.Host
		if host == "" {
			host = "*"
		}
		b.WriteString(p.RouteRef.Kind + " " + p.RouteRef.Namespace + "/" + p.RouteRef.Name + " (" + host + p.HTTPPath + ") → ")
	}
	return b.String()
}

// Exposure is a workload reachable from outside and every path to it.
type Exposure struct {
	Workload *kube.Workload `json:"-"`
	Ref      kube.Ref       `json:"workload"`
	Paths    []Path         `json:"paths"`
}

// Graph is the exposure of one inventory's workloads.
type Graph struct {
	graphOptions
	exposed []*Exposure
	byObj   map[*kube.Object]*Exposure
	// added are the gateway paths added so far (Graph.addOnce).
	added map[pathKey]bool
	// workloads are the inventory's workloads by namespace.
	workloads *WorkloadIndex
}

// ref is o's reference with the namespace it is matched in.
func (g *Graph) ref(o *kube.Object) kube.Ref {
	r := o.Ref
	r.Namespace = g.ns(o)
	return r
}

// ns is o's namespace for matching Services, Ingresses and workloads.
func (g *Graph) ns(o *kube.Object) string {
	if g.defaultNS {
		return kube.AppliedNamespace(o.Meta.Namespace)
	}
	return o.Meta.Namespace
}

// Analyze computes the exposure of inv's workloads. A Service, Ingress or
// workload written without a namespace is taken to be in "default": that
// is where `kubectl apply` puts it from the default context, and a set that
// mixes `namespace: default` with none can only be applied together there
// (kubectl refuses objects whose namespace differs from -n).
func Analyze(inv *kube.Inventory) *Graph { return analyzeGraph(inv, graphOptions{defaultNS: true}) }

// AnalyzeAsWritten is Analyze comparing namespaces as written, as behaviour
// versions 1–3 of the internet-exposed-workload check did.
func AnalyzeAsWritten(inv *kube.Inventory) *Graph { return analyzeGraph(inv, graphOptions{}) }

// AnalyzeGateways is Analyze with the paths in through Gateway API and
// Istio gateways as well (gateway.go, istio.go), as behaviour version 5 of
// internet-exposed-workload sees them. Analyze stays without them so that
// checks pinned to an earlier version keep their verdicts.
func AnalyzeGateways(inv *kube.Inventory) *Graph {
	return analyzeGraph(inv, graphOptions{defaultNS: true, gateways: true})
}

// AnalyzePerPod is AnalyzeGateways with a Service also selecting a
// StatefulSet by the labels its controller gives each pod (a Kafka
// broker's external LoadBalancer selects statefulset.kubernetes.io/
// pod-name: kafka-0), as behaviour version 14 of the exposure checks sees
// it; AnalyzeGateways stays without, for scans pinned before.
func AnalyzePerPod(inv *kube.Inventory) *Graph {
	return analyzeGraph(inv, graphOptions{defaultNS: true, gateways: true, perPod: true})
}

// analyzeGraph returns the graph of inv for these options, built once per
// inventory: the exposure checks and the report read the same one (a
// Graph does not change once built).
func analyzeGraph(inv *kube.Inventory, opts graphOptions) *Graph {
	// The workload index is derived first: Derived must not be called
	// while building another derived value.
	idx := IndexWorkloads(inv)
	return inv.Derived(opts, func() any { return buildGraph(inv, idx, opts) }).(*Graph)
}

// graphOptions say which ways in a graph sees; they also name the graph
// among an inventory's derived values.
type graphOptions struct {
	defaultNS bool // objects without a namespace are in "default" (Analyze)
	gateways  bool // Gateway API and Istio gateways (AnalyzeGateways)
	perPod    bool // Services select StatefulSets by their pods' own labels (AnalyzePerPod)
}

func buildGraph(inv *kube.Inventory, idx *WorkloadIndex, opts graphOptions) *Graph {
	g := &Graph{graphOptions: opts, byObj: map[*kube.Object]*Exposure{}, workloads: idx}
	services := map[[2]string]*kube.Object{}
	for _, o := range inv.OfKind("Service") {
		if _, ok := o.Typed.(*corev1.Service); ok {
			services[[2]string{g.ns(o), o.Meta.Name}] = o
		}
	}
	// Services reachable from outside by themselves.
	for _, o := range inv.OfKind("Service") {
		svc, ok := o.Typed.(*corev1.Service)
		if !ok {
			continue
		}
		var how []string
		switch svc.Spec.Type {
		case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort:
			how = append(how, string(svc.Spec.Type))
		}
		if len(svc.Spec.ExternalIPs) > 0 {
			how = append(how, "externalIPs")
		}
		for _, h := range how {
			g.addService(inv, o, svc, Path{Service: o, ServiceRef: g.ref(o), Exposure: h})
		}
	}
	// Ingress backends.
	for _, o := range inv.OfKind("Ingress") {
		ing, ok := o.Typed.(*networkingv1.Ingress)
		if !ok {
			continue
		}
		ref := g.ref(o)
		add := func(host, path string, be *networkingv1.IngressBackend) {
			if be == nil || be.Service == nil {
				return
			}
			so := services[[2]string{g.ns(o), be.Service.Name}]
			if so == nil {
				return
			}
			p := Path{Ingress: o, IngressRef: &ref, Host: host, HTTPPath: path, TLS: tlsCovers(ing, host),
				Service: so, ServiceRef: g.ref(so), Exposure: "Ingress", Port: portOf(be.Service.Port)}
			g.addService(inv, so, so.Typed.(*corev1.Service), p)
		}
		add("", "", ing.Spec.DefaultBackend)
		for _, r := range ing.Spec.Rules {
			if r.HTTP == nil {
				continue
			}
			for _, p := range r.HTTP.Paths {
				add(r.Host, p.Path, &p.Backend)
			}
		}
	}
	if opts.gateways {
		// Istio first: whether an Istio Gateway is exposed depends on the
		// Service paths of its own pods, which only the steps above add.
		g.addIstio(inv, services)
		g.addGatewayAPI(inv, services)
	}
	sort.SliceStable(g.exposed, func(i, j int) bool { return g.exposed[i].Ref.String() < g.exposed[j].Ref.String() })
	return g
}

// addService adds p to every workload svc selects.
func (g *Graph) addService(inv *kube.Inventory, o *kube.Object, svc *corev1.Service, p Path) {
	// A Service without a selector routes to manually managed endpoints:
	// no workload of the inventory is known to be behind it.
	if len(svc.Spec.Selector) == 0 {
		return
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	for _, w := range g.workloads.candidates(o.Source.Cluster, o.Meta.Namespace, sel) {
		if g.ns(w.Object) != g.ns(o) || !(sel.Matches(labels.Set(w.PodMeta.Labels)) || g.perPod && anyPodMatches(w, sel)) {
			continue
		}
		e := g.byObj[w.Object]
		if e == nil {
			e = &Exposure{Workload: w, Ref: w.Object.Ref}
			g.byObj[w.Object] = e
			g.exposed = append(g.exposed, e)
		}
		e.Paths = append(e.Paths, p)
	}
}

// Exposed returns every exposed workload, sorted by reference.
func (g *Graph) Exposed() []*Exposure { return g.exposed }

// Of returns the exposure of the workload held by o, or nil.
func (g *Graph) Of(o *kube.Object) *Exposure { return g.byObj[o] }

// tlsCovers reports whether ing serves host with TLS: a tls entry lists the
// host (or a wildcard covering it), or lists no hosts at all.
func tlsCovers(ing *networkingv1.Ingress, host string) bool {
	for _, t := range ing.Spec.TLS {
		if len(t.Hosts) == 0 {
			return true
		}
		for _, h := range t.Hosts {
			if h == host {
				return true
			}
			if strings.HasPrefix(h, "*.") && host != "" {
				if _, rest, ok := strings.Cut(host, "."); ok && rest == h[2:] {
					return true
				}
			}
		}
	}
	return false
}

func portOf(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	if p.Number != 0 {
		return strconv.Itoa(int(p.Number))
	}
	return ""
}
