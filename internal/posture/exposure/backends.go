package exposure

import (
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/palisade-sec/palisade/internal/kube"
)

// Backend is a Service an Ingress or a Gateway API route sends traffic
// to, whether or not the inventory holds that Service.
type Backend struct {
	// From is the Ingress or route; Path the backend's field path in it.
	From *kube.Object
	Path []string
	// Namespace (as applied) and Name name the Service.
	Namespace, Name string
	// PortNumber or PortName is the Service port asked for; both zero
	// when the reference names none.
	PortNumber int32
	PortName   string
	// Service is the Service named, nil when the inventory holds none.
	Service *kube.Object
	// NotPermitted is set for a route's reference to a Service of another
	// namespace that no ReferenceGrant there allows: the implementation
	// refuses it (RefNotPermitted) and sends the traffic nowhere.
	NotPermitted bool
}

// Port is the port asked for as written: its number or its name.
func (b Backend) Port() string {
	if b.PortName != "" {
		return b.PortName
	}
	if b.PortNumber != 0 {
		return strconv.Itoa(int(b.PortNumber))
	}
	return ""
}

// Backends returns the Service backends of inv's Ingresses (default
// backend and rule paths; resource backends are not Services) and Gateway
// API routes (backendRefs of kind Service, the default), in inventory
// order. Objects and Services are related by cluster and namespace as
// applied, as Analyze relates them.
func Backends(inv *kube.Inventory) []Backend {
	type svcKey struct {
		ns   nsKey
		name string
	}
	services := map[svcKey]*kube.Object{}
	for _, o := range inv.OfKind("Service") {
		if serviceOf(o) != nil {
			services[svcKey{nsKey{o.Source.Cluster, kube.AppliedNamespace(o.Meta.Namespace)}, o.Meta.Name}] = o
		}
	}
	lookup := func(from *kube.Object, ns, name string) *kube.Object {
		return services[svcKey{nsKey{from.Source.Cluster, ns}, name}]
	}
	var out []Backend
	for _, o := range inv.OfKind("Ingress") {
		ing, ok := o.Typed.(*networkingv1.Ingress)
		if !ok {
			continue
		}
		ns := kube.AppliedNamespace(o.Meta.Namespace)
		add := func(be *networkingv1.IngressBackend, path ...string) {
			if be == nil || be.Service == nil {
				return
			}
			out = append(out, Backend{From: o, Path: append(path, "service"), Namespace: ns, Name: be.Service.Name,
				PortNumber: be.Service.Port.Number, PortName: be.Service.Port.Name, Service: lookup(o, ns, be.Service.Name)})
		}
		add(ing.Spec.DefaultBackend, "spec", "defaultBackend")
		for i, r := range ing.Spec.Rules {
			if r.HTTP == nil {
				continue
			}
			for j := range r.HTTP.Paths {
				add(&r.HTTP.Paths[j].Backend, "spec", "rules", strconv.Itoa(i), "http", "paths", strconv.Itoa(j), "backend")
			}
		}
	}
	grants := (&Graph{graphOptions: graphOptions{defaultNS: true}}).referenceGrants(inv)
	for _, kind := range []string{"HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"} {
		for _, ro := range ofGroup(inv, gatewayGroup, kind) {
			var r gwRoute
			if fieldsOf(ro, &r) != nil {
				continue
			}
			rns := kube.AppliedNamespace(ro.Meta.Namespace)
			for i, rule := range r.Spec.Rules {
				for j, br := range rule.BackendRefs {
					if deref(br.Group, "") != "" || deref(br.Kind, "Service") != "Service" {
						continue
					}
					bns := deref(br.Namespace, rns)
					out = append(out, Backend{From: ro, Path: []string{"spec", "rules", strconv.Itoa(i), "backendRefs", strconv.Itoa(j)},
						Namespace: bns, Name: br.Name, PortNumber: deref(br.Port, 0), Service: lookup(ro, bns, br.Name),
						NotPermitted: bns != rns && !grants.allow(bns, kind, rns, br.Name)})
				}
			}
		}
	}
	return out
}
