package checks

import (
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// TestSandboxRuntimeClass covers what the fixtures do not: a configured
// list of RuntimeClasses wins over names and handlers, removed
// RuntimeClass versions are read, and only Agent Sandbox pod templates are
// judged.
func TestSandboxRuntimeClass(t *testing.T) {
	template := func(rc string) string {
		return "apiVersion: extensions.agents.x-k8s.io/v1beta1\nkind: SandboxTemplate\nmetadata: {name: t, namespace: a}\nspec: {podTemplate: {spec: {runtimeClassName: " + rc + ", containers: [{name: c, image: i}]}}}\n"
	}
	for _, tc := range []struct {
		name    string
		docs    []string
		allowed []string
		want    string // runtimeClass evidence of the finding; "" for none
	}{
		{"configured list wins over the name", []string{template("gvisor")}, []string{"secure-vm"}, "gvisor"},
		{"configured list admits a custom name", []string{template("secure-vm")}, []string{"secure-vm"}, ""},
		{"gvisor by name", []string{template("gvisor")}, nil, ""},
		{"kata-fc by name", []string{template("kata-fc")}, nil, ""},
		{"katana is not kata", []string{template("katana")}, nil, "katana"},
		{"v1beta1 RuntimeClass handler", []string{"apiVersion: node.k8s.io/v1beta1\nkind: RuntimeClass\nmetadata: {name: secure-vm}\nhandler: runsc\n", template("secure-vm")}, nil, ""},
		{"v1alpha1 RuntimeClass handler", []string{"apiVersion: node.k8s.io/v1alpha1\nkind: RuntimeClass\nmetadata: {name: secure-vm}\nspec: {runtimeHandler: runc}\n", template("secure-vm")}, nil, "secure-vm"},
		{"pod is not judged", []string{"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := kube.Decode(t.Context(), "s.yaml", []byte(strings.Join(tc.docs, "---\n")), kube.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			inv := kube.NewInventory(objs)
			var got string
			for _, w := range inv.Workloads {
				in := &posture.Input{Workload: w, Object: w.Object, Inventory: inv, Options: &posture.Options{Sandboxes: config.Sandboxes{RuntimeClasses: tc.allowed}}}
				for _, r := range evalSandboxRuntimeClass(in) {
					got = r.Evidence[0].Value
				}
			}
			if got != tc.want {
				t.Errorf("finding for runtime class %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSandboxEgressEdges covers egress declarations the fixtures do not:
// null lists, CIDRs the API server refuses, selectors scoped on one side,
// and Unmanaged templates isolated by Cilium.
func TestSandboxEgressEdges(t *testing.T) {
	template := func(spec string) string {
		return "apiVersion: extensions.agents.x-k8s.io/v1beta1\nkind: SandboxTemplate\nmetadata: {name: coder, namespace: agents}\nspec:\n" + spec +
			"  podTemplate: {metadata: {labels: {app: coder}}, spec: {containers: [{name: c, image: i}]}}\n"
	}
	for _, tc := range []struct {
		name string
		docs []string
		want []string // problem evidence of each finding
	}{
		{"egress null denies all", []string{template("  networkPolicy: {egress: null}\n")}, nil},
		{"to null allows all", []string{template("  networkPolicy: {egress: [{to: null}]}\n")}, []string{"any-destination"}},
		{"to empty list allows all", []string{template("  networkPolicy: {egress: [{to: []}]}\n")}, []string{"any-destination"}},
		{"cidr the API server refuses", []string{template("  networkPolicy: {egress: [{to: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}\n")}, []string{"refused-policy"}},
		{"narrow cidr", []string{template("  networkPolicy: {egress: [{to: [{ipBlock: {cidr: 0.0.0.0/1}}]}]}\n")}, nil},
		{"labelled namespaces, every pod there", []string{template("  networkPolicy: {egress: [{to: [{namespaceSelector: {matchLabels: {team: ai}}, podSelector: {}}]}]}\n")}, nil},
		{"every namespace, labelled pods", []string{template("  networkPolicy: {egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {app: llm-proxy}}}]}]}\n")}, nil},
		{"match expressions scope a selector", []string{template("  networkPolicy: {egress: [{to: [{podSelector: {matchExpressions: [{key: app, operator: In, values: [proxy]}]}}]}]}\n")}, nil},
		{"one problem per peer", []string{template("  networkPolicy: {egress: [{to: [{ipBlock: {cidr: \"0.0.0.0/0\"}}, {ipBlock: {cidr: \"::/0\"}}]}]}\n")}, []string{"all-addresses", "all-addresses"}},
		{"unmanaged, Cilium clusterwide policy", []string{template("  networkPolicyManagement: Unmanaged\n"),
			"apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: sandboxes}\nspec: {endpointSelector: {matchLabels: {app: coder}}, egress: [{toEntities: [world]}]}\n"}, nil},
		{"unmanaged, ingress-only policy", []string{template("  networkPolicyManagement: Unmanaged\n"),
			"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: in, namespace: agents}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n"}, []string{"unmanaged"}},
		{"unmanaged, policy in another namespace", []string{template("  networkPolicyManagement: Unmanaged\n"),
			"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: other}\nspec: {podSelector: {}, policyTypes: [Egress]}\n"}, []string{"unmanaged"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := kube.Decode(t.Context(), "s.yaml", []byte(strings.Join(tc.docs, "---\n")), kube.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range evalSandboxEgress(&posture.Input{Inventory: kube.NewInventory(objs), Options: &posture.Options{}}) {
				got = append(got, r.Evidence[0].Value)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("problems %v, want %v", got, tc.want)
			}
		})
	}
}
