package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// CRDKind is a kind served by a CustomResourceDefinition that posture
// checks understand: a live scan reads it when the cluster serves it and
// goes without it otherwise (it is simply not installed).
type CRDKind struct {
	Group string
	// Versions are the versions to read it at, preferred first: the
	// newest served one is used, so a cluster with an older release of
	// the CRD is still read.
	Versions   []string
	Kind       string
	Resource   string // plural
	Namespaced bool
}

// CRDKinds lists the CRD-backed kinds a live scan reads when installed:
// Cilium's network policies (network-pod-isolation, network-allow-all),
// the Gateway API and Istio routing objects (the exposure graph), and
// Agent Sandbox's Sandbox and SandboxTemplate, whose pod templates are
// workloads (CustomWorkloadKinds; the template also declares the
// sandboxes' NetworkPolicy), and the Prometheus operator's ServiceMonitors
// and PodMonitors (dangling-monitor). Secrets-like kinds are never among
// them.
func CRDKinds() []CRDKind {
	const gw, istio = "gateway.networking.k8s.io", "networking.istio.io"
	istioVersions := []string{"v1", "v1beta1", "v1alpha3"}
	return []CRDKind{
		{Group: "cilium.io", Versions: []string{"v2"}, Kind: "CiliumNetworkPolicy", Resource: "ciliumnetworkpolicies", Namespaced: true},
		{Group: "cilium.io", Versions: []string{"v2"}, Kind: "CiliumClusterwideNetworkPolicy", Resource: "ciliumclusterwidenetworkpolicies"},
		{Group: gw, Versions: []string{"v1", "v1beta1"}, Kind: "Gateway", Resource: "gateways", Namespaced: true},
		{Group: gw, Versions: []string{"v1", "v1beta1"}, Kind: "HTTPRoute", Resource: "httproutes", Namespaced: true},
		{Group: gw, Versions: []string{"v1", "v1alpha2"}, Kind: "GRPCRoute", Resource: "grpcroutes", Namespaced: true},
		// TLSRoute, TCPRoute and UDPRoute are experimental: only v1alpha2
		// (TLSRoute also v1alpha3 since Gateway API 1.3).
		{Group: gw, Versions: []string{"v1alpha3", "v1alpha2"}, Kind: "TLSRoute", Resource: "tlsroutes", Namespaced: true},
		{Group: gw, Versions: []string{"v1alpha2"}, Kind: "TCPRoute", Resource: "tcproutes", Namespaced: true},
		{Group: gw, Versions: []string{"v1alpha2"}, Kind: "UDPRoute", Resource: "udproutes", Namespaced: true},
		// A backendRef to another namespace counts only with its grant.
		{Group: gw, Versions: []string{"v1", "v1beta1", "v1alpha2"}, Kind: "ReferenceGrant", Resource: "referencegrants", Namespaced: true},
		{Group: istio, Versions: istioVersions, Kind: "Gateway", Resource: "gateways", Namespaced: true},
		{Group: istio, Versions: istioVersions, Kind: "VirtualService", Resource: "virtualservices", Namespaced: true},
		{Group: AgentSandboxGroup, Versions: []string{"v1beta1", "v1alpha1"}, Kind: "Sandbox", Resource: "sandboxes", Namespaced: true},
		{Group: AgentSandboxExtensionsGroup, Versions: []string{"v1beta1", "v1alpha1"}, Kind: "SandboxTemplate", Resource: "sandboxtemplates", Namespaced: true},
		{Group: MonitoringGroup, Versions: []string{"v1"}, Kind: "ServiceMonitor", Resource: "servicemonitors", Namespaced: true},
		{Group: MonitoringGroup, Versions: []string{"v1"}, Kind: "PodMonitor", Resource: "podmonitors", Namespaced: true},
	}
}

// MonitoringGroup is the Prometheus operator's API group.
const MonitoringGroup = "monitoring.coreos.com"

// At returns the kind as a LiveKind at version.
func (k CRDKind) At(version string) LiveKind {
	return LiveKind{GVK: schema.GroupVersionKind{Group: k.Group, Version: version, Kind: k.Kind}, Resource: k.Resource}
}

// Name is the kind, qualified as kubectl does ("Kind.group") when it is not
// built in: Gateway API and Istio both have a Gateway.
func (k LiveKind) Name() string {
	if len(BuiltinResources(k.GVK.Group, k.GVK.Kind)) > 0 {
		return k.GVK.Kind
	}
	return k.GVK.Kind + "." + k.GVK.Group
}

// discoveryAccept asks for aggregated discovery (every group, version and
// resource in one response) and accepts the plain group list of servers
// without it.
const discoveryAccept = discovery.AcceptV2 + "," + discovery.AcceptV1

// ServedCRDKinds asks the API server, with one GET of /apis, which
// CRDKinds it serves, and returns each at its newest served version.
// Aggregated discovery (Kubernetes 1.30 and later) names every served
// resource in that one response. Older servers answer with the plain group
// list; then each version of a group in the table is asked for its
// resources (GET /apis/GROUP/VERSION), so a kind a group serves at an
// older version only (Gateway API 1.0's GRPCRoute) is still found. Servers
// without these groups cost the one request. client-go's ServerGroups
// costs two round trips (/api and /apis), and the core group serves none
// of these kinds.
func ServedCRDKinds(ctx context.Context, rc rest.Interface) ([]LiveKind, error) {
	var ct string
	body, err := rc.Get().AbsPath("/apis").SetHeader("Accept", discoveryAccept).Do(ctx).ContentType(&ct).Raw()
	if err != nil {
		return nil, fmt.Errorf("discover API groups: %w", err)
	}
	return servedFromDiscovery(ct, body, func(gv schema.GroupVersion) ([]string, error) {
		raw, err := rc.Get().AbsPath("/apis", gv.Group, gv.Version).Do(ctx).Raw()
		if apierrors.IsNotFound(err) {
			return nil, nil // removed since the group list was read
		}
		if err != nil {
			return nil, fmt.Errorf("discover %s: %w", gv, err)
		}
		var list metav1.APIResourceList
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("decode resources of %s: %w", gv, err)
		}
		var names []string
		for _, r := range list.APIResources {
			names = append(names, r.Name)
		}
		return names, nil
	})
}

// servedFromDiscovery reads a /apis response of content type ct; for a
// plain group list it asks resourcesOf for the resources of each group
// version the table could read.
func servedFromDiscovery(ct string, body []byte, resourcesOf func(schema.GroupVersion) ([]string, error)) ([]LiveKind, error) {
	served := map[schema.GroupVersionResource]bool{}
	aggregated, err := discovery.ContentTypeIsGVK(ct, apidiscoveryv2.SchemeGroupVersion.WithKind("APIGroupDiscoveryList"))
	if err != nil {
		return nil, fmt.Errorf("discover API groups: content type %q: %w", ct, err)
	}
	if aggregated {
		var list apidiscoveryv2.APIGroupDiscoveryList
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, fmt.Errorf("decode aggregated discovery: %w", err)
		}
		for _, g := range list.Items {
			for _, v := range g.Versions {
				for _, r := range v.Resources {
					served[schema.GroupVersionResource{Group: g.Name, Version: v.Version, Resource: r.Resource}] = true
				}
			}
		}
	} else {
		var list metav1.APIGroupList
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, fmt.Errorf("decode API group list: %w", err)
		}
		wanted := map[schema.GroupVersion]bool{}
		for _, k := range CRDKinds() {
			for _, v := range k.Versions {
				wanted[schema.GroupVersion{Group: k.Group, Version: v}] = true
			}
		}
		for _, g := range list.Groups {
			for _, v := range g.Versions {
				gv := schema.GroupVersion{Group: g.Name, Version: v.Version}
				if !wanted[gv] {
					continue
				}
				wanted[gv] = false // listed twice: ask once
				names, err := resourcesOf(gv)
				if err != nil {
					return nil, err
				}
				for _, n := range names {
					served[gv.WithResource(n)] = true
				}
			}
		}
	}
	var out []LiveKind
	for _, k := range CRDKinds() {
		i := slices.IndexFunc(k.Versions, func(v string) bool {
			return served[schema.GroupVersionResource{Group: k.Group, Version: v, Resource: k.Resource}]
		})
		if i < 0 {
			continue
		}
		out = append(out, k.At(k.Versions[i]))
	}
	return out, nil
}

// listCRDKinds lists, with the dynamic client, every CRDKind the cluster
// serves, as unstructured objects wrapped like decoded manifests of the
// same kind. A kind it cannot list (and a failed discovery) is a
// *ListError in the returned slice; the error is only for a done ctx.
func listCRDKinds(ctx context.Context, cfg *rest.Config, rc rest.Interface, cluster string, pageSize int64) ([]*Object, []error, error) {
	kinds, err := ServedCRDKinds(ctx, rc)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("list cluster %s: %w", cluster, ctx.Err())
		}
		return nil, []error{&ListError{Kind: UndiscoveredKinds, Forbidden: apierrors.IsForbidden(err), Err: err}}, nil
	}
	if len(kinds) == 0 {
		return nil, nil, nil
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("build dynamic client for %s: %w", cluster, err)
	}
	var objs []*Object
	var missing []error
	for _, k := range kinds {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("list cluster %s: %w", cluster, err)
		}
		ri := dyn.Resource(k.GVR())
		list := func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) { return ri.List(ctx, opts) }
		kindObjs, err := pagedObjects(ctx, list, k.GVK, cluster, pageSize, nil)
		objs = append(objs, kindObjs...)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, fmt.Errorf("list %s in %s: %w", k.Name(), cluster, ctx.Err())
			}
			// Removed between discovery and the LIST: not installed after all.
			if apierrors.IsNotFound(err) {
				continue
			}
			missing = append(missing, &ListError{Kind: k.Name(), Forbidden: apierrors.IsForbidden(err), Err: err})
		}
	}
	return objs, missing, nil
}

// liveObject wraps obj, read from cluster as gvk, as every live read does:
// without its managed fields (no check reads them, a manifest has none,
// and they are often the larger part of a small object; Unstructured
// removes the field for nil) and with its kind set, which the items of a
// typed LIST lack.
func liveObject(obj runtime.Object, gvk schema.GroupVersionKind, cluster string) *Object {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	o := newObject(obj, gvk.GroupVersion().String(), gvk.Kind)
	o.Source = Source{Cluster: cluster}
	return o
}
