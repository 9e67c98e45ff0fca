package exposure

// Gateway API (gateway.networking.k8s.io): Gateway → route (HTTPRoute,
// GRPCRoute, TLSRoute, TCPRoute, UDPRoute) → Service → workloads.
//
// What counts as exposed. A Gateway is the cluster's entry point by
// design: the spec defines it as "how traffic can be translated to
// Services within the cluster" from a load balancer, and the big
// implementations (Istio, Envoy Gateway, Cilium, NGINX Gateway Fabric,
// Contour, the cloud controllers) provision a LoadBalancer Service or a
// cloud load balancer for it. "Internal" classes and private spec.addresses
// (GKE gke-l7-rilb, internal-LB annotations in spec.infrastructure) still
// make the gateway reachable from outside the cluster, from its VPC: the
// same as a LoadBalancer Service with an internal annotation, which this
// package counts too. A Gateway is not exposed only where its data plane
// stays inside the cluster, which an implementation says explicitly: Istio's
// networking.istio.io/service-type: ClusterIP (on the Gateway or in
// spec.infrastructure.annotations).
//
// Attachment follows the spec: a parentRef names a Gateway (group
// gateway.networking.k8s.io, kind Gateway, namespace the route's unless
// set; a parentRef of kind Service is GAMMA mesh routing, not a way in),
// optionally one listener by sectionName or port; the listener must allow
// the route (allowedRoutes.namespaces.from Same, the default, All or
// Selector; allowedRoutes.kinds, by default the kinds its protocol
// carries) and share a hostname with it. A backendRef (kind Service,
// group core, unless set) in another namespace counts only where a
// ReferenceGrant in that namespace lets the route's kind and namespace
// refer to the Service.
//
// Where the Gateway is not in the inventory: a route read from files is
// taken as attached (the Gateway is usually a platform team's, applied from
// another repository, and the route names it to be served by it); a route
// read live from a cluster is attached to nothing, since the Gateway would
// have been listed with it. A Namespace the inventory lacks is allowed by
// a Selector for the same reason (files) or judged on its
// kubernetes.io/metadata.name label alone (live).

import (
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/palisade-sec/palisade/internal/kube"
)

const gatewayGroup = "gateway.networking.k8s.io"

// istioServiceTypeAnnotation sets the type of the Service Istio deploys
// for a Gateway API Gateway; ClusterIP keeps the gateway inside the cluster.
const istioServiceTypeAnnotation = "networking.istio.io/service-type"

type gwGateway struct {
	Spec struct {
		Listeners      []gwListener `json:"listeners"`
		Infrastructure *struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"infrastructure"`
	} `json:"spec"`
}

type gwListener struct {
	Name     string `json:"name"`
	Hostname string `json:"hostname"`
	Port     int32  `json:"port"`
	Protocol string `json:"protocol"`
	TLS      *struct {
		Mode string `json:"mode"`
	} `json:"tls"`
	AllowedRoutes *gwAllowedRoutes `json:"allowedRoutes"`
}

type gwAllowedRoutes struct {
	Namespaces *struct {
		From     string                `json:"from"`
		Selector *metav1.LabelSelector `json:"selector"`
	} `json:"namespaces"`
	Kinds []gwKind `json:"kinds"`
}

type gwKind struct {
	Group *string `json:"group"`
	Kind  string  `json:"kind"`
}

type gwRoute struct {
	Spec struct {
		ParentRefs []gwRef  `json:"parentRefs"`
		Hostnames  []string `json:"hostnames"`
		Rules      []gwRule `json:"rules"`
	} `json:"spec"`
}

type gwRule struct {
	Matches []struct {
		Path *struct {
			Value string `json:"value"`
		} `json:"path"`
	} `json:"matches"`
	BackendRefs []gwRef `json:"backendRefs"`
}

// gwRef is a parentRef or backendRef.
type gwRef struct {
	Group       *string `json:"group"`
	Kind        *string `json:"kind"`
	Namespace   *string `json:"namespace"`
	Name        string  `json:"name"`
	SectionName *string `json:"sectionName"`
	Port        *int32  `json:"port"`
}

type gwReferenceGrant struct {
	Spec struct {
		From []struct {
			Group     string `json:"group"`
			Kind      string `json:"kind"`
			Namespace string `json:"namespace"`
		} `json:"from"`
		To []struct {
			Group string  `json:"group"`
			Kind  string  `json:"kind"`
			Name  *string `json:"name"`
		} `json:"to"`
	} `json:"spec"`
}

// gwEntry is one listener a route is attached to; o nil when the Gateway
// is not in the inventory.
type gwEntry struct {
	o        *kube.Object
	ref      kube.Ref
	listener string
	hostname string
	tls      bool
}

// addGatewayAPI adds the paths in through Gateway API Gateways.
func (g *Graph) addGatewayAPI(inv *kube.Inventory, services map[[2]string]*kube.Object) {
	type gateway struct {
		o    *kube.Object
		spec gwGateway
	}
	gateways := map[[2]string]*gateway{}
	for _, o := range ofGroup(inv, gatewayGroup, "Gateway") {
		gw := &gateway{o: o}
		if fieldsOf(o, &gw.spec) != nil || clusterInternal(o, &gw.spec) {
			continue
		}
		gateways[[2]string{g.ns(o), o.Meta.Name}] = gw
	}
	nsLabels := map[string]labels.Set{}
	for _, o := range inv.OfKind("Namespace") {
		set := labels.Set{"kubernetes.io/metadata.name": o.Meta.Name}
		for k, v := range o.Meta.Labels {
			set[k] = v
		}
		nsLabels[o.Meta.Name] = set
	}
	grants := g.referenceGrants(inv)
	for _, kind := range []string{"HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"} {
		for _, ro := range ofGroup(inv, gatewayGroup, kind) {
			var r gwRoute
			if fieldsOf(ro, &r) != nil {
				continue
			}
			rns, rref := g.ns(ro), g.ref(ro)
			live := ro.Source.File == ""
			var entries []gwEntry
			for _, pr := range r.Spec.ParentRefs {
				if deref(pr.Group, gatewayGroup) != gatewayGroup || deref(pr.Kind, "Gateway") != "Gateway" {
					continue
				}
				gref := kube.Ref{APIVersion: gatewayGroup + "/v1", Kind: "Gateway", Namespace: deref(pr.Namespace, rns), Name: pr.Name}
				gw := gateways[[2]string{gref.Namespace, gref.Name}]
				if gw == nil {
					if !live && !g.gatewayKnown(inv, gref) {
						entries = append(entries, gwEntry{ref: gref})
					}
					continue
				}
				gref = g.ref(gw.o)
				for _, l := range gw.spec.Spec.Listeners {
					if !listenerAccepts(l, pr, kind, rns, gref.Namespace, r.Spec.Hostnames, nsLabels, live) {
						continue
					}
					entries = append(entries, gwEntry{o: gw.o, ref: gref, listener: l.Name + " " + strconv.Itoa(int(l.Port)) + "/" + l.Protocol,
						hostname: l.Hostname, tls: l.TLS != nil || l.Protocol == "HTTPS" || l.Protocol == "TLS"})
				}
			}
			for _, en := range entries {
				for _, rule := range r.Spec.Rules {
					var paths []string
					for _, m := range rule.Matches {
						if m.Path != nil && m.Path.Value != "" {
							paths = append(paths, m.Path.Value)
						}
					}
					for _, br := range rule.BackendRefs {
						if deref(br.Group, "") != "" || deref(br.Kind, "Service") != "Service" {
							continue
						}
						bns := deref(br.Namespace, rns)
						if bns != rns && !grants.allow(bns, kind, rns, br.Name) {
							continue
						}
						so := services[[2]string{bns, br.Name}]
						if so == nil {
							continue
						}
						host := strings.Join(r.Spec.Hostnames, ",")
						if host == "" {
							host = en.hostname
						}
						gref := en.ref
						p := Path{Exposure: ExposureGateway, Gateway: en.o, GatewayRef: &gref, Listener: en.listener, TLS: en.tls,
							Route: ro, RouteRef: &rref, Host: host, HTTPPath: strings.Join(paths, ","),
							Service: so, ServiceRef: g.ref(so)}
						if br.Port != nil {
							p.Port = strconv.Itoa(int(*br.Port))
						}
						g.addOnce(inv, so, p)
					}
				}
			}
		}
	}
}

// gatewayKnown reports whether inv holds the Gateway ref names, readable
// or not, or judged cluster-internal: then a route to it is not taken as
// attached to an unseen one.
func (g *Graph) gatewayKnown(inv *kube.Inventory, ref kube.Ref) bool {
	for _, o := range ofGroup(inv, gatewayGroup, "Gateway") {
		if g.ns(o) == ref.Namespace && o.Meta.Name == ref.Name {
			return true
		}
	}
	return false
}

// clusterInternal reports whether the Gateway's data plane is explicitly
// kept inside the cluster (see the file comment).
func clusterInternal(o *kube.Object, gw *gwGateway) bool {
	if strings.EqualFold(o.Meta.Annotations[istioServiceTypeAnnotation], "ClusterIP") {
		return true
	}
	inf := gw.Spec.Infrastructure
	return inf != nil && strings.EqualFold(inf.Annotations[istioServiceTypeAnnotation], "ClusterIP")
}

// listenerAccepts reports whether listener l takes a route of kind in
// namespace rns with hostnames through parentRef pr of a Gateway in gns.
func listenerAccepts(l gwListener, pr gwRef, kind, rns, gns string, hostnames []string, nsLabels map[string]labels.Set, live bool) bool {
	if pr.SectionName != nil && *pr.SectionName != l.Name {
		return false
	}
	if pr.Port != nil && *pr.Port != l.Port {
		return false
	}
	if !kindAllowed(l, kind) || !namespaceAllowed(l, rns, gns, nsLabels, live) {
		return false
	}
	switch kind {
	case "HTTPRoute", "GRPCRoute", "TLSRoute":
		if l.Hostname == "" || len(hostnames) == 0 {
			return true
		}
		for _, h := range hostnames {
			if hostsIntersect(l.Hostname, h) {
				return true
			}
		}
		return false
	}
	return true
}

// kindAllowed reports whether l takes routes of kind: those its
// allowedRoutes.kinds list, or by default those its protocol carries.
func kindAllowed(l gwListener, kind string) bool {
	if ar := l.AllowedRoutes; ar != nil && len(ar.Kinds) > 0 {
		for _, k := range ar.Kinds {
			if k.Kind == kind && deref(k.Group, gatewayGroup) == gatewayGroup {
				return true
			}
		}
		return false
	}
	switch l.Protocol {
	case "HTTP", "HTTPS":
		return kind == "HTTPRoute" || kind == "GRPCRoute"
	case "TLS":
		return kind == "TLSRoute" || kind == "TCPRoute"
	case "TCP":
		return kind == "TCPRoute"
	case "UDP":
		return kind == "UDPRoute"
	}
	return true // an implementation's own protocol: its kinds are not known
}

// namespaceAllowed applies l's allowedRoutes.namespaces to a route in rns.
func namespaceAllowed(l gwListener, rns, gns string, nsLabels map[string]labels.Set, live bool) bool {
	from, ls := "Same", (*metav1.LabelSelector)(nil)
	if ar := l.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		if ar.Namespaces.From != "" {
			from = ar.Namespaces.From
		}
		ls = ar.Namespaces.Selector
	}
	switch from {
	case "All":
		return true
	case "Same":
		return rns == gns
	case "Selector":
		if ls == nil {
			return false
		}
		sel, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			return false // the API server rejects such a Gateway
		}
		set, ok := nsLabels[rns]
		if !ok {
			if !live {
				return true
			}
			set = labels.Set{"kubernetes.io/metadata.name": rns}
		}
		return sel.Matches(set)
	}
	return false
}

// grants are the ReferenceGrants of an inventory by namespace.
type grants map[string][]gwReferenceGrant

func (g *Graph) referenceGrants(inv *kube.Inventory) grants {
	out := grants{}
	for _, o := range ofGroup(inv, gatewayGroup, "ReferenceGrant") {
		var rg gwReferenceGrant
		if fieldsOf(o, &rg) == nil {
			out[g.ns(o)] = append(out[g.ns(o)], rg)
		}
	}
	return out
}

// allow reports whether a ReferenceGrant in ns lets routes of kind in
// namespace from refer to Service name.
func (gr grants) allow(ns, kind, from, name string) bool {
	for _, rg := range gr[ns] {
		fromOK := false
		for _, f := range rg.Spec.From {
			if f.Group == gatewayGroup && f.Kind == kind && f.Namespace == from {
				fromOK = true
			}
		}
		if !fromOK {
			continue
		}
		for _, t := range rg.Spec.To {
			if t.Group == "" && t.Kind == "Service" && (t.Name == nil || *t.Name == "" || *t.Name == name) {
				return true
			}
		}
	}
	return false
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
