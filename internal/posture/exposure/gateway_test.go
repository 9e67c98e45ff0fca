package exposure

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
)

// analyzeGateways is analyze with AnalyzeGateways; docs are added to the
// workloads of exposure_test.go.
func analyzeGateways(t *testing.T, docs string) map[string][]string {
	t.Helper()
	objs, err := kube.Decode(t.Context(), "test.yaml", []byte(workloads+"---\n"+docs), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, e := range AnalyzeGateways(kube.NewInventory(objs)).Exposed() {
		for _, p := range e.Paths {
			got[e.Ref.String()] = append(got[e.Ref.String()], p.String())
		}
	}
	return got
}

const webService = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
`

// gatewayDoc is a Gateway in namespace infra with listeners.
func gatewayDoc(listeners string) string {
	return `---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: infra}
spec:
  gatewayClassName: istio
  listeners:
` + listeners
}

const routeToWeb = `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: web, port: 80}]
`

func TestGatewayAPI(t *testing.T) {
	const allFrom = "  - {name: https, port: 443, protocol: HTTPS, hostname: \"*.example.com\", tls: {mode: Terminate}, allowedRoutes: {namespaces: {from: All}}}\n"
	const viaHTTPS = "Gateway infra/edge (https 443/HTTPS, TLS) → HTTPRoute shop/web (shop.example.com/api) → Service shop/web:80"
	for _, tc := range []struct {
		name string
		docs string
		want map[string][]string
	}{
		{"route attached to a listener from all namespaces", webService + gatewayDoc(allFrom) + routeToWeb,
			map[string][]string{"Deployment/shop/web": {viaHTTPS}}},
		{"listener allows the same namespace only", webService + gatewayDoc("  - {name: http, port: 80, protocol: HTTP}\n") + routeToWeb,
			map[string][]string{}},
		{"listener selects the route's namespace by label", webService + gatewayDoc(`  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {expose: "yes"}}}}
`) + routeToWeb + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {expose: \"yes\"}}\n",
			map[string][]string{"Deployment/shop/web": {"Gateway infra/edge (http 80/HTTP, no TLS) → HTTPRoute shop/web (shop.example.com/api) → Service shop/web:80"}}},
		{"listener selector does not match the namespace", webService + gatewayDoc(`  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {expose: "yes"}}}}
`) + routeToWeb + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
			map[string][]string{}},
		{"listener selector and a namespace the files lack", webService + gatewayDoc(`  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {expose: "yes"}}}}
`) + routeToWeb,
			map[string][]string{"Deployment/shop/web": {"Gateway infra/edge (http 80/HTTP, no TLS) → HTTPRoute shop/web (shop.example.com/api) → Service shop/web:80"}}},
		{"listener hostname does not intersect", webService + gatewayDoc("  - {name: https, port: 443, protocol: HTTPS, hostname: \"*.example.org\", allowedRoutes: {namespaces: {from: All}}}\n") + routeToWeb,
			map[string][]string{}},
		{"listener kinds exclude HTTPRoute", webService + gatewayDoc("  - {name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}, allowedRoutes: {namespaces: {from: All}}}\n") + routeToWeb,
			map[string][]string{}},
		{"sectionName picks the listener", webService + gatewayDoc(allFrom+"  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}\n") + `---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra, sectionName: http}]
  rules: [{backendRefs: [{name: web}]}]
`, map[string][]string{"Deployment/shop/web": {"Gateway infra/edge (http 80/HTTP, no TLS) → HTTPRoute shop/web (*) → Service shop/web"}}},
		{"cluster-internal gateway", webService + `---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: infra, annotations: {networking.istio.io/service-type: ClusterIP}}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
` + routeToWeb, map[string][]string{}},
		{"gateway not in the files", webService + routeToWeb,
			map[string][]string{"Deployment/shop/web": {"Gateway infra/edge (not in the scanned objects) → HTTPRoute shop/web (shop.example.com/api) → Service shop/web:80"}}},
		{"mesh route to a Service parent", webService + `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: web}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
`, map[string][]string{}},
		{"cross-namespace backend without grant", webService + gatewayDoc(allFrom) + crossRoute, map[string][]string{}},
		{"cross-namespace backend with grant", webService + gatewayDoc(allFrom) + crossRoute + `---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-front, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: front}]
  to: [{group: "", kind: Service}]
`, map[string][]string{"Deployment/shop/web": {"Gateway infra/edge (https 443/HTTPS, TLS) → HTTPRoute front/web (shop.example.com) → Service shop/web:80"}}},
		{"grant for another service", webService + gatewayDoc(allFrom) + crossRoute + `---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-front, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: front}]
  to: [{group: "", kind: Service, name: other}]
`, map[string][]string{}},
		{"tcp route on a tcp listener", webService + gatewayDoc("  - {name: db, port: 5432, protocol: TCP}\n") + `---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: db, namespace: infra}
spec:
  parentRefs: [{name: edge}]
  rules: [{backendRefs: [{name: web, namespace: shop, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: tcp, namespace: shop}
spec:
  from: [{group: gateway.networking.k8s.io, kind: TCPRoute, namespace: infra}]
  to: [{group: "", kind: Service, name: web}]
`, map[string][]string{"Deployment/shop/web": {"Gateway infra/edge (db 5432/TCP, no TLS) → TCPRoute infra/db (*) → Service shop/web:80"}}},
		{"duplicate backend in two rules is one path", webService + gatewayDoc(allFrom) + `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: web, port: 80}, {name: web, port: 80}]
`, map[string][]string{"Deployment/shop/web": {viaHTTPS}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, analyzeGateways(t, tc.docs)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// Analyze, as behaviour version 4 sees exposure, knows no gateways.
			if got := analyze(t, tc.docs); len(got) != 0 {
				t.Errorf("Analyze found %v", got)
			}
		})
	}
}

const crossRoute = `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: front}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: [shop.example.com]
  rules: [{backendRefs: [{name: web, namespace: shop, port: 80}]}]
`

// TestGatewayAPILive checks how a live inventory differs from files: a
// route whose Gateway was not listed with it is attached to nothing, and a
// listener's namespace Selector is judged on the Namespace's labels, the
// kubernetes.io/metadata.name label alone when the Namespace was not
// listed.
func TestGatewayAPILive(t *testing.T) {
	selector := func(labels string) string {
		return gatewayDoc(`  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: ` + labels + `}}}
`)
	}
	const via = "Gateway infra/edge (http 80/HTTP, no TLS) → HTTPRoute shop/web (shop.example.com/api) → Service shop/web:80"
	for _, tc := range []struct {
		name string
		docs string
		want []string
	}{
		{"gateway not listed", webService + routeToWeb, nil},
		{"selector on the namespace name", webService + selector("{kubernetes.io/metadata.name: shop}") + routeToWeb, []string{via}},
		{"selector on a label of an unlisted namespace", webService + selector("{expose: \"yes\"}") + routeToWeb, nil},
		{"selector on a label of a listed namespace", webService + selector("{expose: \"yes\"}") + routeToWeb +
			"---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {expose: \"yes\"}}\n", []string{via}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := kube.Decode(t.Context(), "test.yaml", []byte(workloads+"---\n"+tc.docs), kube.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				o.Source = kube.Source{Cluster: "prod"}
			}
			var got []string
			for _, e := range AnalyzeGateways(kube.NewInventory(objs)).Exposed() {
				for _, p := range e.Paths {
					got = append(got, e.Ref.String()+": "+p.String())
				}
			}
			var want []string
			for _, p := range tc.want {
				want = append(want, "Deployment/shop/web: "+p)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestWorkloadsGateway checks that a report names the Gateway a path
// enters at, with TLS known only when the Gateway is in the inventory.
func TestWorkloadsGateway(t *testing.T) {
	docs := webService + gatewayDoc("  - {name: https, port: 443, protocol: HTTPS, allowedRoutes: {namespaces: {from: All}}}\n") + routeToWeb + `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other, namespace: shop}
spec:
  parentRefs: [{name: shared, namespace: platform}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
`
	objs, err := kube.Decode(t.Context(), "test.yaml", []byte(workloads+"---\n"+docs), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tls := true
	want := []finding.ExposurePath{
		{Via: "Gateway", Ingress: "infra/edge", Host: "shop.example.com", Path: "/api", Service: "shop/web", Port: "80", TLS: &tls},
		{Via: "Gateway", Ingress: "platform/shared", Service: "shop/web", Port: "80"},
	}
	got := Workloads(kube.NewInventory(objs))
	if len(got) != 1 {
		t.Fatalf("%d exposed workloads, want 1: %+v", len(got), got)
	}
	if diff := cmp.Diff(want, got[0].Paths); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
