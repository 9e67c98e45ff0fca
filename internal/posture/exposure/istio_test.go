package exposure

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const istioIngress = `---
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  type: LoadBalancer
  selector: {app: istio-ingressgateway, istio: ingressgateway}
  ports: [{name: http2, port: 80}, {name: https, port: 443}]
`

const istioGatewayDoc = `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: infra}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*/shop.example.com"]
    tls: {mode: SIMPLE, credentialName: shop-cert}
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*/shop.example.com"]
    tls: {httpsRedirect: true}
`

// virtualService binds to gateways and routes /api to host.
func virtualService(gateways, host string) string {
	return `---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: ` + gateways + `
  http:
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: ` + host + `, port: {number: 80}}}]
`
}

func TestIstio(t *testing.T) {
	const viaHTTPS = "Istio Gateway infra/public (https 443/HTTPS, TLS) → VirtualService shop/web (shop.example.com/api) → Service shop/web:80"
	for _, tc := range []struct {
		name string
		docs string
		want map[string][]string
	}{
		{"fqdn destination through the ingress gateway", webService + istioIngress + istioGatewayDoc + virtualService("[infra/public]", "web.shop.svc.cluster.local"),
			map[string][]string{"Deployment/shop/web": {viaHTTPS}}},
		{"short and name.namespace destinations", webService + istioIngress + istioGatewayDoc + virtualService("[infra/public, mesh]", "web") +
			virtualService("[infra/public]", "web.shop"), map[string][]string{"Deployment/shop/web": {viaHTTPS}}},
		{"bound to mesh only", webService + istioIngress + istioGatewayDoc + virtualService("[mesh]", "web"), map[string][]string{}},
		{"no gateways is mesh", webService + istioIngress + istioGatewayDoc + virtualService("[]", "web"), map[string][]string{}},
		{"short gateway name is the virtual service's namespace", webService + istioIngress + istioGatewayDoc + virtualService("[public]", "web"),
			map[string][]string{"Deployment/shop/web": {"Istio Gateway shop/public (not in the scanned objects) → VirtualService shop/web (shop.example.com/api) → Service shop/web:80"}}},
		{"gateway pods behind a ClusterIP service only", webService + `---
apiVersion: v1
kind: Service
metadata: {name: internal-gateway, namespace: istio-system}
spec: {selector: {istio: ingressgateway}, ports: [{port: 80}]}
` + istioGatewayDoc + virtualService("[infra/public]", "web"), map[string][]string{}},
		{"egress gateway", webService + `---
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata: {name: public, namespace: infra}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
` + virtualService("[infra/public]", "web"), map[string][]string{}},
		{"server host for another namespace", webService + istioIngress + `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: infra}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["./shop.example.com"]}]
` + virtualService("[infra/public]", "web"), map[string][]string{}},
		{"gateway without known pods, wildcard host", webService + `---
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata: {name: public, namespace: infra}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
` + virtualService("[infra/public]", "web"),
			map[string][]string{"Deployment/shop/web": {"Istio Gateway infra/public (http 80/HTTP, no TLS) → VirtualService shop/web (shop.example.com/api) → Service shop/web:80"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, analyzeGateways(t, tc.docs)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got := analyze(t, tc.docs); len(got) != 0 {
				t.Errorf("Analyze found %v", got)
			}
		})
	}
}
