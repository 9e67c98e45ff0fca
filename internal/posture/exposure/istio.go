package exposure

// Istio (networking.istio.io): Gateway → VirtualService → Service →
// workloads.
//
// An Istio Gateway only configures gateway pods deployed apart from it,
// which its spec.selector picks (in any namespace, Istio's default). It is
// exposed when those pods are: when the inventory holds workloads the
// selector matches, when one of them is reachable from outside (a
// LoadBalancer, NodePort or externalIPs Service, an Ingress); else, when
// it holds Services whose selectors agree with the Gateway's, when one of
// them is of those types; else, with nothing known about the pods, it is
// taken as exposed, since the gateway Istio installs for Gateways
// (istio-ingressgateway) is a LoadBalancer Service. A selector naming an
// egress gateway (a label value containing "egressgateway", as Istio's
// istio-egressgateway has) is for traffic leaving the mesh, never a way in.
//
// A VirtualService is bound to the Gateways its spec.gateways names
// ("namespace/name", or "name" in the VirtualService's namespace; "mesh",
// and no gateways at all, mean sidecars only), narrowed per route by
// match[].gateways, and to the Gateway's servers that share a host with
// it ("namespace/host" server hosts take VirtualServices of that
// namespace only) and carry the route's kind: http routes on HTTP, HTTPS,
// HTTP2 and GRPC servers that neither pass TLS through nor only redirect
// to HTTPS; tls routes on TLS passthrough servers; tcp routes on the
// others. A destination host is a Service by short name, name.namespace
// or FQDN (istioService). As for Gateway API routes, a Gateway that files
// name but do not hold is taken as attached; a live one is not.

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/palisade-sec/palisade/internal/kube"
)

const istioGroup = "networking.istio.io"

type istioGateway struct {
	Spec struct {
		Selector map[string]string `json:"selector"`
		Servers  []istioServer     `json:"servers"`
	} `json:"spec"`
}

type istioServer struct {
	Port *struct {
		Number   int64  `json:"number"`
		Protocol string `json:"protocol"`
		Name     string `json:"name"`
	} `json:"port"`
	Hosts []string `json:"hosts"`
	TLS   *struct {
		HTTPSRedirect bool   `json:"httpsRedirect"`
		Mode          string `json:"mode"`
	} `json:"tls"`
}

type istioVirtualService struct {
	Spec struct {
		Hosts    []string     `json:"hosts"`
		Gateways []string     `json:"gateways"`
		HTTP     []istioRoute `json:"http"`
		TLS      []istioRoute `json:"tls"`
		TCP      []istioRoute `json:"tcp"`
	} `json:"spec"`
}

type istioRoute struct {
	Match []struct {
		URI *struct {
			Exact  string `json:"exact"`
			Prefix string `json:"prefix"`
			Regex  string `json:"regex"`
		} `json:"uri"`
		Gateways []string `json:"gateways"`
	} `json:"match"`
	Route []struct {
		Destination struct {
			Host string `json:"host"`
			Port *struct {
				Number int64 `json:"number"`
			} `json:"port"`
		} `json:"destination"`
	} `json:"route"`
}

// addIstio adds the paths in through Istio Gateways.
func (g *Graph) addIstio(inv *kube.Inventory, services map[[2]string]*kube.Object) {
	type gateway struct {
		o       *kube.Object
		spec    istioGateway
		exposed bool
	}
	gateways := map[[2]string]*gateway{}
	for _, o := range ofGroup(inv, istioGroup, "Gateway") {
		gw := &gateway{o: o}
		if fieldsOf(o, &gw.spec) != nil {
			gw.o = nil // known, unreadable: attached to nothing
		} else {
			gw.exposed = g.istioGatewayExposed(inv, gw.spec.Spec.Selector)
		}
		gateways[[2]string{g.ns(o), o.Meta.Name}] = gw
	}
	// Judge every Gateway before adding paths: the gateway pods' own
	// exposure must not include paths through gateways.
	for _, vo := range ofGroup(inv, istioGroup, "VirtualService") {
		var vs istioVirtualService
		if fieldsOf(vo, &vs) != nil {
			continue
		}
		vns, vref := g.ns(vo), g.ref(vo)
		live := vo.Source.File == ""
		for _, kr := range []struct {
			kind   string
			routes []istioRoute
		}{{"http", vs.Spec.HTTP}, {"tls", vs.Spec.TLS}, {"tcp", vs.Spec.TCP}} {
			for _, rt := range kr.routes {
				var uris []string
				for _, m := range rt.Match {
					if m.URI != nil {
						uris = append(uris, m.URI.Exact+m.URI.Prefix+m.URI.Regex)
					}
				}
				for _, name := range routeGateways(vs.Spec.Gateways, rt) {
					gref := istioGatewayRef(name, vns)
					if gref == nil {
						continue
					}
					var entries []gwEntry
					gw := gateways[[2]string{gref.Namespace, gref.Name}]
					switch {
					case gw == nil && !live:
						entries = append(entries, gwEntry{ref: *gref})
					case gw == nil || gw.o == nil || !gw.exposed:
						continue
					default:
						for _, s := range gw.spec.Spec.Servers {
							if e, ok := istioServerEntry(s, kr.kind, vns, gref.Namespace, vs.Spec.Hosts); ok {
								e.o, e.ref = gw.o, g.ref(gw.o)
								entries = append(entries, e)
							}
						}
					}
					for _, en := range entries {
						for _, d := range rt.Route {
							sns, sname, ok := istioService(d.Destination.Host, vns)
							if !ok {
								continue
							}
							so := services[[2]string{sns, sname}]
							if so == nil {
								continue
							}
							ref := en.ref
							p := Path{Exposure: ExposureIstioGateway, Gateway: en.o, GatewayRef: &ref, Listener: en.listener, TLS: en.tls,
								Route: vo, RouteRef: &vref, Host: strings.Join(vs.Spec.Hosts, ","), HTTPPath: strings.Join(uris, ","),
								Service: so, ServiceRef: g.ref(so)}
							if d.Destination.Port != nil && d.Destination.Port.Number != 0 {
								p.Port = strconv.FormatInt(d.Destination.Port.Number, 10)
							}
							g.addOnce(inv, so, p)
						}
					}
				}
			}
		}
	}
}

// routeGateways is the gateways a route of a VirtualService bound to
// gateways applies to: those its matches name when every match names some,
// else all of them.
func routeGateways(gateways []string, rt istioRoute) []string {
	if len(rt.Match) == 0 {
		return gateways
	}
	var out []string
	for _, m := range rt.Match {
		if len(m.Gateways) == 0 {
			return gateways
		}
		out = append(out, m.Gateways...)
	}
	return out
}

// istioGatewayRef resolves a VirtualService's gateway name from namespace
// ns; nil for "mesh" (the sidecars) or an empty name.
func istioGatewayRef(name, ns string) *kube.Ref {
	if name == "" || name == "mesh" {
		return nil
	}
	gns, gname, ok := strings.Cut(name, "/")
	if !ok {
		gns, gname = ns, name
	}
	if gname == "" {
		return nil
	}
	return &kube.Ref{APIVersion: istioGroup + "/v1", Kind: "Gateway", Namespace: gns, Name: gname}
}

// istioServerEntry returns the entry for server s when it carries routes
// of kind (http, tls, tcp) of a VirtualService in vns with hosts.
func istioServerEntry(s istioServer, kind, vns, gwNS string, hosts []string) (gwEntry, bool) {
	var proto, name, mode string
	var port int64
	if s.Port != nil {
		proto, name, port = strings.ToUpper(s.Port.Protocol), s.Port.Name, s.Port.Number
	}
	redirect := false
	if s.TLS != nil {
		mode, redirect = strings.ToUpper(s.TLS.Mode), s.TLS.HTTPSRedirect
	}
	passthrough := mode == "PASSTHROUGH" || mode == "AUTO_PASSTHROUGH"
	httpLike := proto == "HTTP" || proto == "HTTP2" || proto == "GRPC" || proto == "GRPC-WEB"
	switch kind {
	case "http":
		if passthrough || (redirect && proto == "HTTP") || !(httpLike || proto == "HTTPS") {
			return gwEntry{}, false
		}
	case "tls":
		if !passthrough && proto != "TLS" {
			return gwEntry{}, false
		}
	case "tcp":
		if httpLike || proto == "HTTPS" {
			return gwEntry{}, false
		}
	}
	if !istioHostsMatch(s.Hosts, vns, gwNS, hosts) {
		return gwEntry{}, false
	}
	return gwEntry{listener: name + " " + strconv.FormatInt(port, 10) + "/" + proto,
		tls: mode != "" || proto == "HTTPS" || proto == "TLS"}, true
}

// istioHostsMatch reports whether a server with serverHosts takes a
// VirtualService in vns with hosts.
func istioHostsMatch(serverHosts []string, vns, gwNS string, hosts []string) bool {
	for _, sh := range serverHosts {
		ns, h := istioServerHost(sh, gwNS)
		if ns != "" && ns != vns {
			continue
		}
		if len(hosts) == 0 {
			return true
		}
		for _, vh := range hosts {
			if hostsIntersect(h, vh) {
				return true
			}
		}
	}
	return false
}

// istioGatewayExposed judges an Istio Gateway by its selector (see the file
// comment). g holds the Service and Ingress paths only.
func (g *Graph) istioGatewayExposed(inv *kube.Inventory, selector map[string]string) bool {
	for _, v := range selector {
		if strings.Contains(v, "egressgateway") {
			return false
		}
	}
	if len(selector) == 0 {
		return true
	}
	sel := labels.SelectorFromSet(selector)
	pods := false
	for _, w := range inv.Workloads {
		if sel.Matches(labels.Set(w.PodMeta.Labels)) {
			if g.byObj[w.Object] != nil {
				return true
			}
			pods = true
		}
	}
	if pods {
		return false
	}
	svcs := false
	for _, o := range inv.OfKind("Service") {
		svc := serviceOf(o)
		if svc == nil || !selectorsAgree(svc.Spec.Selector, selector) {
			continue
		}
		if svc.Spec.Type == corev1.ServiceTypeLoadBalancer || svc.Spec.Type == corev1.ServiceTypeNodePort || len(svc.Spec.ExternalIPs) > 0 {
			return true
		}
		svcs = true
	}
	return !svcs
}

// selectorsAgree reports whether a pod can match both selectors: they share
// a label and give no shared label different values.
func selectorsAgree(a, b map[string]string) bool {
	shared := false
	for k, v := range a {
		if w, ok := b[k]; ok {
			if v != w {
				return false
			}
			shared = true
		}
	}
	return shared
}
