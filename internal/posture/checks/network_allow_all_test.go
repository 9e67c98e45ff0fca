package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// allowAllOf runs network-allow-all over one NetworkPolicy document and
// returns "direction rule peer" per finding, with the finding's path.
func allowAllOf(t *testing.T, doc string) []string {
	t.Helper()
	objs, err := kube.Decode(t.Context(), "np.yaml", []byte(doc), kube.Limits{})
	if err != nil || len(objs) != 1 {
		t.Fatalf("decode: %d objects, %v", len(objs), err)
	}
	var out []string
	for _, r := range evalAllowAll(&posture.Input{Object: objs[0], Inventory: kube.NewInventory(objs)}) {
		s := ""
		for _, e := range r.Evidence {
			s += e.Name + "=" + e.Value + " "
		}
		for _, p := range r.Path {
			s += "." + p
		}
		out = append(out, s)
	}
	return out
}

func TestNetworkAllowAll(t *testing.T) {
	const head = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns}\n"
	for _, tc := range []struct {
		name, spec string
		want       []string
	}{
		{"empty rule list denies", "spec: {podSelector: {}, ingress: []}", nil},
		{"empty rule admits all", "spec: {podSelector: {}, ingress: [{}]}",
			[]string{"direction=ingress rule=0 peer=any .spec.ingress.0.from"}},
		{"empty peer and port lists admit all", "spec: {podSelector: {}, ingress: [{from: [], ports: []}]}",
			[]string{"direction=ingress rule=0 peer=any .spec.ingress.0.from"}},
		{"egress rule without Egress policy type is ignored", "spec: {podSelector: {}, policyTypes: [Ingress], egress: [{}]}", nil},
		{"egress rule with defaulted policy types counts", "spec: {podSelector: {}, egress: [{}]}",
			[]string{"direction=egress rule=0 peer=any .spec.egress.0.to"}},
		{"ingress rule of an Egress-only policy is ignored", "spec: {podSelector: {}, policyTypes: [Egress], ingress: [{}]}", nil},
		{"ports narrow the rule", "spec: {podSelector: {}, ingress: [{ports: [{port: 443}]}]}", nil},
		{"namespaceSelector {} alone", "spec: {podSelector: {}, ingress: [{from: [{namespaceSelector: {}}]}]}",
			[]string{"direction=ingress rule=0 peer=all-namespaces .spec.ingress.0.from.0"}},
		{"namespaceSelector {} with a labelled podSelector", "spec: {podSelector: {}, ingress: [{from: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: app, operator: Exists}]}}]}]}", nil},
		{"podSelector {} alone is the policy's namespace only", "spec: {podSelector: {}, ingress: [{from: [{podSelector: {}}]}]}", nil},
		{"non-canonical zero prefix", "spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 10.1.2.3/0}}]}]}",
			[]string{"direction=egress rule=0 peer=0.0.0.0/0 .spec.egress.0.to.0"}},
		{"ipv6 anywhere, second peer", "spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}}, {ipBlock: {cidr: '::/0'}}]}]}",
			[]string{"direction=egress rule=0 peer=::/0 .spec.egress.0.to.1"}},
		{"except narrows the block", "spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]}]}", nil},
		{"invalid cidr", "spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: everything}}]}]}", nil},
		{"both directions", "spec: {podSelector: {}, policyTypes: [Ingress, Egress], ingress: [{from: [{podSelector: {matchLabels: {a: b}}}]}, {}], egress: [{}]}",
			[]string{"direction=ingress rule=1 peer=any .spec.ingress.1.from", "direction=egress rule=0 peer=any .spec.egress.0.to"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, allowAllOf(t, head+tc.spec)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNetworkAllowAllExtensions checks that the removed extensions/v1beta1
// NetworkPolicy, still found in old manifests, is judged like v1.
func TestNetworkAllowAllExtensions(t *testing.T) {
	got := allowAllOf(t, "apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {podSelector: {}, ingress: [{}]}\n")
	if want := []string{"direction=ingress rule=0 peer=any .spec.ingress.0.from"}; !cmp.Equal(want, got) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNetworkAllowAllCilium(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"empty rule denies in Cilium", "kind: CiliumNetworkPolicy\nspec: {endpointSelector: {}, ingress: [{}], egress: [{}]}", nil},
		{"zero CIDR set without except", "kind: CiliumNetworkPolicy\nspec: {endpointSelector: {}, egress: [{toCIDRSet: [{cidr: 10.0.0.0/8}, {cidr: 0.0.0.0/0}]}]}",
			[]string{"direction=egress rule=0 peer=0.0.0.0/0 .spec.egress.0.toCIDRSet"}},
		{"fromRequires narrows", "kind: CiliumNetworkPolicy\nspec: {endpointSelector: {}, ingress: [{fromEntities: [all], fromRequires: [{matchLabels: {env: prod}}]}]}", nil},
		{"icmps narrow", "kind: CiliumNetworkPolicy\nspec: {endpointSelector: {}, egress: [{toEntities: [all], icmps: [{fields: [{type: 8}]}]}]}", nil},
		{"namespaced empty endpoint selector is one namespace", "kind: CiliumNetworkPolicy\nspec: {endpointSelector: {}, ingress: [{fromEndpoints: [{matchLabels: {}}]}]}", nil},
		{"clusterwide empty endpoint selector, in specs", "kind: CiliumClusterwideNetworkPolicy\nspecs: [{endpointSelector: {}, ingress: [{fromEndpoints: [{matchLabels: {app: a}}]}]}, {endpointSelector: {}, ingress: [{fromEndpoints: [{}]}]}]",
			[]string{"direction=ingress rule=0 peer=all-endpoints spec=1 .specs.1.ingress.0.fromEndpoints"}},
		{"cluster entity", "kind: CiliumNetworkPolicy\nspec: {endpointSelector: {}, ingress: [{fromEntities: [host, cluster]}]}",
			[]string{"direction=ingress rule=0 peer=entity cluster .spec.ingress.0.fromEntities"}},
		{"malformed rules are skipped", "kind: CiliumNetworkPolicy\nspec: {endpointSelector: {}, ingress: [3, {fromEntities: all}, {toCIDR: [7]}]}\nspecs: [x]", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, allowAllOf(t, "apiVersion: cilium.io/v2\nmetadata: {name: p, namespace: ns}\n"+tc.doc)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}
