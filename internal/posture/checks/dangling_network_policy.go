package checks

// A NetworkPolicy applies to the pods its podSelector matches in its
// namespace; one that matches none isolates nothing, so the isolation its
// author intended is absent (often a label renamed on the workload). An
// empty podSelector selects every pod of the namespace, now and later, and
// is never dangling. A rule peer's podSelector without namespaceSelector
// matches pods of the policy's namespace; when it matches none the rule
// admits no traffic, so the flow it was written for is blocked. Peers with
// a namespaceSelector depend on namespace labels a manifest scan seldom
// sees and are not judged; Cilium policies are not judged either (their
// selectors also match Cilium's own labels). From version 14 the pods of
// implied workloads count (a policy for Prometheus' pods). kube-linter
// dangling-networkpolicy and dangling-networkpolicypeer-podselector,
// Kubescape dangling-networkpolicy.

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/exposure"
)

// DanglingNetworkPolicy reports NetworkPolicies, and their rules' pod
// selectors, that match no workload's pods.
func DanglingNetworkPolicy() posture.Check {
	return posture.Check{
		ID:          "dangling-network-policy",
		Title:       "NetworkPolicy selects no workload",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityMedium,
		Category:    "reliability",
		Rationale:   "A NetworkPolicy whose podSelector matches no pod isolates nothing: the pods it was written for accept and open every connection. A rule whose peer podSelector matches no pod admits nothing, blocking the flow it was meant to allow.",
		Remediation: "Make the podSelector match the pod template labels of the workloads to isolate, in the policy's namespace (or use podSelector: {} for all of them); fix or remove rule peers that match no pod.",
		Scope:       posture.ScopeInventory,
		Kinds:       []string{"NetworkPolicy"},
		Needs:       kube.PodKinds(),
		// New in version 8; version 14 counts the pods of implied workloads.
		Versions: impliedVersions(evalDanglingNetworkPolicy, 8, 14),
	}
}

// evalDanglingNetworkPolicy is dangling-network-policy's evaluation at
// behaviour version v: pods implied at v are selected.
func evalDanglingNetworkPolicy(in *posture.Input, v posture.Version) []posture.Result {
	idx := exposure.IndexWorkloads(in.Inventory)
	im := impliedBy(in.Inventory)
	var out []posture.Result
	for _, o := range in.Inventory.OfKind("NetworkPolicy") {
		np := networkPolicyOf(o)
		if np == nil {
			continue
		}
		ns := kube.AppliedNamespace(o.Meta.Namespace)
		name := ns + "/" + o.Meta.Name
		// dangling reports whether a non-empty selector matches no pod;
		// an invalid one is refused by the API server and not judged.
		dangling := func(ls *metav1.LabelSelector) (string, bool) {
			if ls == nil || (len(ls.MatchLabels) == 0 && len(ls.MatchExpressions) == 0) {
				return "", false
			}
			sel, err := metav1.LabelSelectorAsSelector(ls)
			if err != nil || sel.Empty() {
				return "", false
			}
			return sel.String(), !idx.AnySelected(o.Source.Cluster, ns, sel) && !im.selected(o, "Pod", ns, sel, v)
		}
		if sel, ok := dangling(&np.Spec.PodSelector); ok {
			out = append(out, posture.Result{Object: o, Path: []string{"spec", "podSelector"},
				Message: "NetworkPolicy " + name + " selects pods matching " + sel + ", but no workload of namespace " + ns + " " +
					scannedSet(o) + " has such pods: the policy isolates nothing.",
				Evidence: []finding.Evidence{key("selector", "podSelector"), key("match", sel)}})
		}
		peers := func(dir string, i int, list []networkingv1.NetworkPolicyPeer) {
			field := "from"
			if dir == "egress" {
				field = "to"
			}
			for j, p := range list {
				if p.NamespaceSelector != nil || p.IPBlock != nil {
					continue
				}
				sel, ok := dangling(p.PodSelector)
				if !ok {
					continue
				}
				out = append(out, posture.Result{Object: o, Severity: finding.SeverityLow,
					Path: []string{"spec", dir, itoa(i), field, itoa(j), "podSelector"},
					Message: "NetworkPolicy " + name + ": " + dir + " rule " + itoa(i) + " allows pods matching " + sel +
						", but no workload of namespace " + ns + " " + scannedSet(o) + " has such pods: the rule admits no traffic.",
					Evidence: []finding.Evidence{key("selector", "peer"), key("rule", dir+"/"+itoa(i)+"/"+itoa(j)), ev("match", sel)}})
			}
		}
		for i, r := range np.Spec.Ingress {
			peers("ingress", i, r.From)
		}
		for i, r := range np.Spec.Egress {
			peers("egress", i, r.To)
		}
	}
	return out
}
