package checks

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// isolationOf runs network-pod-isolation over the YAML documents docs,
// each tagged with the cluster of the same index ("" when clusters is
// short), and returns "Kind/name direction isolated=…" per finding.
func isolationOf(t testing.TB, clusters []string, docs ...string) []string {
	t.Helper()
	var objs []*kube.Object
	for i, d := range docs {
		decoded, err := kube.Decode(t.Context(), "doc"+itoa(i)+".yaml", []byte(d), kube.Limits{})
		if err != nil {
			t.Fatalf("decode doc %d: %v", i, err)
		}
		for _, o := range decoded {
			if i < len(clusters) {
				o.Source.Cluster = clusters[i]
			}
		}
		objs = append(objs, decoded...)
	}
	var out []string
	for _, r := range evalPodIsolation(&posture.Input{Inventory: kube.NewInventory(objs)}) {
		s := r.Object.Source.Cluster + ":" + r.Object.Ref.Kind + "/" + r.Object.Ref.Name
		for _, e := range r.Evidence {
			s += " " + e.Name + "=" + e.Value
		}
		out = append(out, s)
	}
	return out
}

const isoPod = `apiVersion: v1
kind: Pod
metadata: {name: api, namespace: pay, labels: {app: api}}
spec:
  serviceAccountName: api-sa
  containers: [{name: api, image: registry.example.com/api:1}]
`

func TestPodIsolation(t *testing.T) {
	both := []string{":Pod/api direction=ingress isolated=none", ":Pod/api direction=egress isolated=none"}
	for _, tc := range []struct {
		name string
		docs []string
		want []string
	}{
		{"no policy", []string{isoPod}, both},
		{"egress only", []string{isoPod, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: pay}
spec: {podSelector: {}, policyTypes: [Egress]}`}, []string{":Pod/api direction=ingress isolated=egress"}},
		{"explicit empty policyTypes is defaulted", []string{isoPod, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: pay}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: []
  egress: [{to: [{podSelector: {}}]}]`}, nil},
		{"invalid selector is refused by the API server, so isolates nothing", []string{isoPod, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: pay}
spec:
  podSelector: {matchExpressions: [{key: app, operator: Bogus, values: [api]}]}
  policyTypes: [Ingress, Egress]`}, both},
		{"unknown API version of NetworkPolicy is ignored", []string{isoPod, `apiVersion: extensions/achia
kind: NetworkPolicy
metadata: {name: p, namespace: pay}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}`}, both},
		{"cilium any: source", []string{isoPod, `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: pay}
spec:
  endpointSelector: {matchLabels: {"any:app": api}}
  ingress: [{}]
  egressDeny: [{toEntities: [world]}]`}, nil},
		{"cilium reserved: source selects no pod", []string{isoPod, `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: pay}
spec:
  endpointSelector: {matchLabels: {"reserved:host": ""}}
  ingress: [{}]
  egress: [{}]`}, both},
		{"cilium host policy selects no pod", []string{isoPod, `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: p}
spec:
  nodeSelector: {}
  ingress: [{}]
  egress: [{}]`}, both},
		{"cilium namespace of another policy", []string{isoPod, `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: other}
spec:
  endpointSelector: {}
  ingress: [{}]
  egress: [{}]`}, both},
		{"cilium clusterwide by namespace labels and service account", []string{isoPod, `apiVersion: v1
kind: Namespace
metadata: {name: pay, labels: {team: payments}}`, `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: p}
specs:
  - endpointSelector: {matchLabels: {"k8s:io.cilium.k8s.namespace.labels.team": payments}}
    ingress: [{}]
  - endpointSelector:
      matchExpressions: [{key: "k8s:io.cilium.k8s.policy.serviceaccount", operator: In, values: [api-sa]}]
    egress: [{}]
  - "not a rule"`}, nil},
		{"cilium enableDefaultDeny off", []string{isoPod, `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: pay}
spec:
  endpointSelector: {}
  enableDefaultDeny: {ingress: false, egress: true}
  ingress: [{}]
  egress: [{}]`}, []string{":Pod/api direction=ingress isolated=egress"}},
		{"hostNetwork", []string{`apiVersion: v1
kind: Pod
metadata: {name: h, namespace: pay}
spec:
  hostNetwork: true
  containers: [{name: h, image: registry.example.com/h:1}]`}, []string{
			":Pod/h direction=ingress isolated=none hostNetwork=true",
			":Pod/h direction=egress isolated=none hostNetwork=true",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, isolationOf(t, nil, tc.docs...)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPodIsolationPerCluster checks that a policy of one cluster does not
// isolate the same namespace's pods in another cluster of a multi-cluster
// scan.
func TestPodIsolationPerCluster(t *testing.T) {
	deny := `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: pay}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}`
	got := isolationOf(t, []string{"prod", "prod", "dev"}, deny, isoPod, isoPod)
	want := []string{"dev:Pod/api direction=ingress isolated=none", "dev:Pod/api direction=egress isolated=none"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// FuzzNetworkChecks feeds arbitrary documents (policies of every shape,
// Cilium rules read from unstructured maps) to both network checks: they
// must never panic.
func FuzzNetworkChecks(f *testing.F) {
	for _, dir := range []string{"network_pod_isolation", "network_allow_all"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*", "*.yaml"))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: x}\nspec: {endpointSelector: 3, ingress: x}\nspecs: [1, {endpointSelector: {matchLabels: {\":\": \"\"}}}]\n"))
	pod, err := kube.Decode(f.Context(), "pod.yaml", []byte(isoPod), kube.Limits{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, _ := kube.Decode(t.Context(), "f.yaml", data, kube.Limits{})
		// A pod in the namespace the seeds use, for policies to select.
		objs = append(objs, pod...)
		inv := kube.NewInventory(objs)
		for _, r := range evalPodIsolation(&posture.Input{Inventory: inv}) {
			if r.Object == nil || !slices.ContainsFunc(r.Evidence, func(e finding.Evidence) bool { return e.Name == "direction" }) {
				t.Fatalf("finding without object or direction: %+v", r)
			}
		}
		for _, kind := range NetworkAllowAll().Kinds {
			for _, o := range inv.OfKind(kind) {
				for _, r := range evalAllowAll(&posture.Input{Object: o, Inventory: inv}) {
					if !strings.Contains(r.Message, o.Ref.Name) {
						t.Fatalf("message does not name the policy: %q", r.Message)
					}
				}
			}
		}
	})
}
