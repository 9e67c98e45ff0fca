package kube

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

const (
	// aggregatedAPIs is a cut-down aggregated discovery response: Cilium
	// with only its namespaced policy, a Gateway API release whose TLSRoute
	// is only v1alpha2, Istio at v1beta1 only, and an unrelated group.
	aggregatedAPIs = `{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","items":[
 {"metadata":{"name":"apps"},"versions":[{"version":"v1","resources":[{"resource":"deployments","responseKind":{"kind":"Deployment"},"scope":"Namespaced"}]}]},
 {"metadata":{"name":"cilium.io"},"versions":[{"version":"v2","resources":[{"resource":"ciliumnetworkpolicies","responseKind":{"kind":"CiliumNetworkPolicy"},"scope":"Namespaced"}]}]},
 {"metadata":{"name":"gateway.networking.k8s.io"},"versions":[
  {"version":"v1","resources":[{"resource":"gateways","scope":"Namespaced"},{"resource":"httproutes","scope":"Namespaced"}]},
  {"version":"v1alpha2","resources":[{"resource":"tlsroutes","scope":"Namespaced"},{"resource":"httproutes","scope":"Namespaced"}]}]},
 {"metadata":{"name":"networking.istio.io"},"versions":[{"version":"v1beta1","resources":[{"resource":"gateways","scope":"Namespaced"},{"resource":"virtualservices","scope":"Namespaced"}]}]}]}`
	// plainAPIs is the APIGroupList of a server without aggregated
	// discovery; plainResources what its group versions serve (Gateway API
	// 1.0: GRPCRoute only at v1alpha2, no UDPRoute).
	plainAPIs = `{"kind":"APIGroupList","apiVersion":"v1","groups":[
 {"name":"gateway.networking.k8s.io","versions":[{"groupVersion":"gateway.networking.k8s.io/v1","version":"v1"},{"groupVersion":"gateway.networking.k8s.io/v1alpha2","version":"v1alpha2"}]},
 {"name":"networking.istio.io","versions":[{"groupVersion":"networking.istio.io/v1alpha3","version":"v1alpha3"}]}]}`
)

var plainResources = map[string][]string{
	"gateway.networking.k8s.io/v1":       {"gateways", "gateways/status", "httproutes", "referencegrants"},
	"gateway.networking.k8s.io/v1alpha2": {"grpcroutes", "tlsroutes", "tcproutes", "referencegrants"},
	"networking.istio.io/v1alpha3":       {"gateways", "virtualservices"},
}

// fakeResources answers servedFromDiscovery's per-version questions from
// plainResources, counting them.
func fakeResources(asked *[]string) func(schema.GroupVersion) ([]string, error) {
	return func(gv schema.GroupVersion) ([]string, error) {
		*asked = append(*asked, gv.String())
		return plainResources[gv.String()], nil
	}
}

func TestServedFromDiscovery(t *testing.T) {
	tests := []struct {
		name, ct, body string
		want           []string // Name@version
		err            string
	}{
		{"aggregated", discovery.AcceptV2 + ";charset=utf-8", aggregatedAPIs, []string{
			"CiliumNetworkPolicy.cilium.io@v2", "Gateway.gateway.networking.k8s.io@v1", "HTTPRoute.gateway.networking.k8s.io@v1",
			"TLSRoute.gateway.networking.k8s.io@v1alpha2", "Gateway.networking.istio.io@v1beta1", "VirtualService.networking.istio.io@v1beta1",
		}, ""},
		{"plain group list", "application/json", plainAPIs, []string{
			"Gateway.gateway.networking.k8s.io@v1", "HTTPRoute.gateway.networking.k8s.io@v1", "GRPCRoute.gateway.networking.k8s.io@v1alpha2",
			"TLSRoute.gateway.networking.k8s.io@v1alpha2", "TCPRoute.gateway.networking.k8s.io@v1alpha2",
			"ReferenceGrant.gateway.networking.k8s.io@v1", "Gateway.networking.istio.io@v1alpha3", "VirtualService.networking.istio.io@v1alpha3",
		}, ""},
		{"nothing installed", discovery.AcceptV2, `{"kind":"APIGroupDiscoveryList","items":[{"metadata":{"name":"apps"}}]}`, nil, ""},
		{"bad JSON", discovery.AcceptV2, `{"items":[`, nil, "decode aggregated discovery"},
		{"bad plain JSON", "application/json", `[]`, nil, "decode API group list"},
		{"bad content type", "application/json; =", `{}`, nil, "content type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			got, err := servedFromDiscovery(tt.ct, []byte(tt.body), fakeResources(&asked))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, k := range got {
				names = append(names, k.Name()+"@"+k.GVK.Version)
			}
			if diff := cmp.Diff(tt.want, names); diff != "" {
				t.Errorf("served kinds (-want +got):\n%s", diff)
			}
			// Only a plain group list needs a question per group version,
			// and only for the table's groups.
			if wantAsked := map[bool]int{true: 3, false: 0}[tt.name == "plain group list"]; len(asked) != wantAsked {
				t.Errorf("asked %d group versions %v, want %d", len(asked), asked, wantAsked)
			}
		})
	}
}

// TestCRDKindsTable checks the table's invariants: unique kind per group,
// a plural per kind, versions given, and no Secret-like kind.
func TestCRDKindsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range CRDKinds() {
		name := k.Kind + "." + k.Group
		if seen[name] {
			t.Errorf("%s listed twice", name)
		}
		seen[name] = true
		if len(k.Versions) == 0 || k.Resource == "" || k.Resource != strings.ToLower(k.Resource) {
			t.Errorf("%s: versions %v, resource %q", name, k.Versions, k.Resource)
		}
		if slices.Contains(LiveKinds(), k.At(k.Versions[0])) {
			t.Errorf("%s is also a built-in live kind", name)
		}
		if strings.Contains(strings.ToLower(k.Kind), "secret") {
			t.Errorf("%s: live scans never read secrets", name)
		}
	}
}

// FuzzServedFromDiscovery feeds arbitrary discovery responses: no panic,
// and every kind returned is in the table at one of its versions.
func FuzzServedFromDiscovery(f *testing.F) {
	f.Add(discovery.AcceptV2, []byte(aggregatedAPIs))
	f.Add("application/json", []byte(plainAPIs))
	f.Add(discovery.AcceptV2, []byte(`{"items":[{"versions":[{"resources":[null]}]}]}`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		var asked []string
		got, err := servedFromDiscovery(ct, body, fakeResources(&asked))
		if err != nil {
			return
		}
		for _, k := range got {
			i := slices.IndexFunc(CRDKinds(), func(c CRDKind) bool {
				return c.Group == k.GVK.Group && c.Kind == k.GVK.Kind && slices.Contains(c.Versions, k.GVK.Version)
			})
			if i < 0 {
				t.Fatalf("served kind %v is not in the table", k.GVK)
			}
		}
	})
}
