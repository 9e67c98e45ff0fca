package checks

// CIS Kubernetes Benchmark 5.3.2: "Ensure that all Namespaces have Network
// Policies defined. Use network policies to isolate traffic in your cluster
// network." NSA/CISA: "Use a default policy to deny all ingress and egress
// traffic." A namespace is judged only when the scanned objects include
// its workloads: a manifest set that holds none says nothing about it.

import (
	"slices"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// NetworkDefaultDeny reports namespaces with workloads but no default-deny
// ingress NetworkPolicy.
func NetworkDefaultDeny() posture.Check {
	return posture.Check{
		ID:          "network-default-deny",
		Title:       "Namespace has no default-deny NetworkPolicy",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "network",
		Rationale:   "Without a default-deny policy every pod accepts traffic from every other pod in the cluster, so one compromised pod reaches them all.",
		Remediation: "Add a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] and no rules, then allow the flows each workload needs.",
		Scope:       posture.ScopeInventory,
		Needs:       policyKinds(),
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: networkDefaultDeny(false)},
			// Version 6 does not count a PodTemplate as a workload of its
			// namespace: it starts no pod, so there is no traffic to deny
			// (network-pod-isolation does not judge it either), and a live
			// scan, which does not list PodTemplates, never reported its
			// namespace.
			{MinVersion: 6, Eval: networkDefaultDeny(true)},
		},
	}
}

// networkDefaultDeny returns network-default-deny's evaluation; running
// counts only workloads whose pods run (isolationKinds).
func networkDefaultDeny(running bool) func(in *posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		denied := map[string]bool{}
		for _, o := range in.Inventory.OfKind("NetworkPolicy") {
			if np, ok := o.Typed.(*networkingv1.NetworkPolicy); ok && isDefaultDeny(np) {
				denied[o.Ref.Namespace] = true
			}
		}
		first := map[string]*kube.Object{}
		var order []string
		for _, w := range in.Inventory.Workloads {
			ns := w.Object.Ref.Namespace
			if ns == "" || systemNamespace(ns) || denied[ns] {
				continue
			}
			if running && !slices.Contains(isolationKinds, w.Object.Ref.Kind) {
				continue
			}
			if _, ok := first[ns]; !ok {
				first[ns] = w.Object
				order = append(order, ns)
			}
		}
		var out []posture.Result
		for _, ns := range order {
			r := posture.Result{
				Message:  "Namespace " + ns + " has workloads (such as " + first[ns].Ref.Kind + " " + first[ns].Ref.Name + ") but no default-deny ingress NetworkPolicy.",
				Evidence: []finding.Evidence{key("namespace", ns)},
			}
			if nsObj := namespaceObject(in.Inventory, ns); nsObj != nil {
				r.Object = nsObj
			} else {
				r.Ref = kube.Ref{APIVersion: "v1", Kind: "Namespace", Name: ns}
				r.At = first[ns]
			}
			out = append(out, r)
		}
		return out
	}
}

// isDefaultDeny reports whether np selects every pod of its namespace and
// allows no ingress.
func isDefaultDeny(np *networkingv1.NetworkPolicy) bool {
	if len(np.Spec.PodSelector.MatchLabels) > 0 || len(np.Spec.PodSelector.MatchExpressions) > 0 {
		return false
	}
	ingress := len(np.Spec.PolicyTypes) == 0 // no policyTypes means Ingress
	for _, t := range np.Spec.PolicyTypes {
		if t == networkingv1.PolicyTypeIngress {
			ingress = true
		}
	}
	return ingress && len(np.Spec.Ingress) == 0
}

// namespaceObject returns the Namespace object named ns, or nil.
func namespaceObject(inv *kube.Inventory, ns string) *kube.Object {
	for _, o := range inv.OfKind("Namespace") {
		if o.Ref.Name == ns {
			return o
		}
	}
	return nil
}
