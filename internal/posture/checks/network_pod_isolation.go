package checks

// CIS Kubernetes Benchmark 5.3.2: "Ensure that all Namespaces have Network
// Policies defined. Use network policies to isolate traffic in your cluster
// network." NSA/CISA Kubernetes Hardening Guide, "Network separation and
// hardening": "Use network policies ... to select pods"; a pod that no
// policy selects accepts (ingress) or opens (egress) every connection, and
// MITRE ATT&CK lateral movement goes through exactly those pods.
//
// A pod is isolated for a direction when a policy of its namespace selects
// it and applies to that direction. Kubernetes defaults a NetworkPolicy
// without policyTypes to Ingress, plus Egress when it has egress rules;
// explicit policyTypes win, so egress rules of an Ingress-only policy
// isolate nothing. Cilium policies (CiliumNetworkPolicy in the namespace,
// CiliumClusterwideNetworkPolicy anywhere) count too, with Cilium's own
// rule: a direction is isolated by a rule that has ingress (egress) or
// ingressDeny (egressDeny) entries and does not switch enableDefaultDeny
// off for it, so "ingress: []" isolates nothing while "ingress: [{}]" denies
// all (the opposite of a Kubernetes NetworkPolicy, where [{}] admits all).

import (
	"sort"
	"strings"

	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// isolationKinds are the workload kinds whose pods run: a PodTemplate
// object starts none, so it is not judged. An Agent Sandbox Sandbox runs
// one Pod and, unlike a SandboxTemplate's (sandbox-egress), gets no
// NetworkPolicy from its controller; it is a workload from behaviour
// version 8 (posture.CustomWorkloadsSince), so older pins judge none.
var isolationKinds = append(kube.PodKinds(), "DeploymentConfig", "Sandbox")

// policyKinds are the kinds whose objects isolate pods: a check that
// reports pods or namespaces without a policy needs them all listed.
func policyKinds() []string {
	return []string{"NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"}
}

// NetworkPodIsolation reports workloads whose pods no network policy
// isolates, once per direction (ingress, egress).
func NetworkPodIsolation() posture.Check {
	return posture.Check{
		ID:          "network-pod-isolation",
		Title:       "Workload's pods are not isolated by a NetworkPolicy",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "network",
		Rationale:   "A pod no NetworkPolicy selects accepts connections from every pod in the cluster and can open connections anywhere, so one compromised pod reaches it, and it reaches everything.",
		Remediation: "Add a NetworkPolicy whose podSelector matches the pod's labels, with policyTypes Ingress and Egress, allowing only the flows the workload needs (or a namespace default-deny policy with podSelector: {}).",
		Scope:       posture.ScopeInventory,
		Kinds:       isolationKinds,
		Needs:       policyKinds(),
		Versions:    []posture.Versioned{{MinVersion: 4, Eval: evalPodIsolation}}, // new in version 4
	}
}

func evalPodIsolation(in *posture.Input) []posture.Result {
	idx := indexPolicies(in.Inventory)
	var out []posture.Result
	for _, w := range in.Inventory.Workloads {
		o := w.Object
		if !isIsolationKind(o.Ref.Kind) {
			continue
		}
		ns := kube.AppliedNamespace(o.Ref.Namespace)
		if systemNamespace(ns) {
			continue
		}
		ingress, egress := idx.isolation(o.Source.Cluster, ns, w)
		isolated := isolationName(ingress, egress)
		labelPath := append(append([]string{}, w.SpecPath[:len(w.SpecPath)-1]...), "metadata", "labels")
		for _, d := range []struct {
			name     string
			isolated bool
			severity finding.Severity
			effect   string
		}{
			{"ingress", ingress, finding.SeverityMedium, "every pod in the cluster can connect to them"},
			{"egress", egress, finding.SeverityLow, "they can connect to every pod and address"},
		} {
			if d.isolated {
				continue
			}
			msg := o.Ref.Kind + " " + ns + "/" + o.Ref.Name + ": "
			if isolated == "none" {
				msg += "no network policy isolates its pods"
			} else {
				msg += "the network policies selecting its pods isolate only " + isolated + ", not " + d.name
			}
			msg += " (labels " + labelString(w.PodMeta.Labels) + "), so " + d.effect + "."
			evs := []finding.Evidence{key("direction", d.name), ev("isolated", isolated)}
			if w.PodSpec.HostNetwork {
				msg += " It uses hostNetwork, which NetworkPolicies do not govern: isolate it on the node instead."
				evs = append(evs, ev("hostNetwork", "true"))
			}
			out = append(out, posture.Result{Object: o, Path: labelPath, Severity: d.severity, Message: msg, Evidence: evs})
		}
	}
	return out
}

func isIsolationKind(kind string) bool {
	for _, k := range isolationKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// isolationName names the directions a workload is isolated for.
func isolationName(ingress, egress bool) string {
	switch {
	case ingress && egress:
		return "both"
	case ingress:
		return "ingress"
	case egress:
		return "egress"
	}
	return "none"
}

// labelString renders labels as sorted k=v pairs, or "none".
func labelString(l map[string]string) string {
	if len(l) == 0 {
		return "none"
	}
	kv := make([]string, 0, len(l))
	for k, v := range l {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// policySelector is one pod selector of a policy and the directions it
// isolates for the pods it selects.
type policySelector struct {
	sel             labels.Selector
	ingress, egress bool
	// cilium selectors match Cilium's view of the pod's labels (with its
	// namespace and service account), Kubernetes ones the pod's labels.
	cilium bool
}

// policyIndex holds the selectors of every policy, per cluster and
// namespace ("cluster\x00ns"), and the cluster-wide ones per cluster.
type policyIndex struct {
	namespaced  map[string][]policySelector
	clusterwide map[string][]policySelector
	nsLabels    map[string]map[string]string
}

func indexPolicies(inv *kube.Inventory) *policyIndex {
	idx := &policyIndex{namespaced: map[string][]policySelector{}, clusterwide: map[string][]policySelector{}, nsLabels: map[string]map[string]string{}}
	for _, o := range inv.OfKind("NetworkPolicy") {
		np := networkPolicyOf(o)
		if np == nil {
			continue
		}
		// An invalid selector is refused by the API server: such a policy
		// does not exist, so it isolates nothing.
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			continue
		}
		ingress, egress := policyDirections(np)
		k := o.Source.Cluster + "\x00" + kube.AppliedNamespace(o.Ref.Namespace)
		idx.namespaced[k] = append(idx.namespaced[k], policySelector{sel: sel, ingress: ingress, egress: egress})
	}
	for _, o := range inv.OfKind("CiliumNetworkPolicy") {
		k := o.Source.Cluster + "\x00" + kube.AppliedNamespace(o.Ref.Namespace)
		idx.namespaced[k] = append(idx.namespaced[k], ciliumSelectors(o)...)
	}
	for _, o := range inv.OfKind("CiliumClusterwideNetworkPolicy") {
		idx.clusterwide[o.Source.Cluster] = append(idx.clusterwide[o.Source.Cluster], ciliumSelectors(o)...)
	}
	for _, o := range inv.OfKind("Namespace") {
		idx.nsLabels[o.Source.Cluster+"\x00"+o.Meta.Name] = o.Meta.Labels
	}
	return idx
}

// isolation reports whether w's pods, in namespace ns of cluster, are
// isolated for ingress and for egress.
func (idx *policyIndex) isolation(cluster, ns string, w *kube.Workload) (ingress, egress bool) {
	podLabels := labels.Set(w.PodMeta.Labels)
	var ciliumLabels labels.Set
	for _, list := range [][]policySelector{idx.namespaced[cluster+"\x00"+ns], idx.clusterwide[cluster]} {
		for _, p := range list {
			set := podLabels
			if p.cilium {
				if ciliumLabels == nil {
					ciliumLabels = idx.ciliumPodLabels(cluster, ns, w)
				}
				set = ciliumLabels
			}
			if p.sel.Matches(set) {
				ingress = ingress || p.ingress
				egress = egress || p.egress
			}
		}
	}
	return ingress, egress
}

// ciliumPodLabels are the labels Cilium gives a pod's endpoint that
// selectors may use: the pod's own, its namespace and service account,
// and its namespace's labels.
func (idx *policyIndex) ciliumPodLabels(cluster, ns string, w *kube.Workload) labels.Set {
	set := labels.Set{}
	for k, v := range w.PodMeta.Labels {
		set[k] = v
	}
	set["io.kubernetes.pod.namespace"] = ns
	sa := w.PodSpec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	set["io.cilium.k8s.policy.serviceaccount"] = sa
	for k, v := range idx.nsLabels[cluster+"\x00"+ns] {
		set["io.cilium.k8s.namespace.labels."+k] = v
	}
	return set
}

// networkPolicyOf returns o as a networking.k8s.io/v1 NetworkPolicy, or nil
// when it is not one. The removed extensions/v1beta1 NetworkPolicy has the
// same fields and is read the same way; other API versions never existed.
func networkPolicyOf(o *kube.Object) *networkingv1.NetworkPolicy {
	switch t := o.Typed.(type) {
	case *networkingv1.NetworkPolicy:
		return t
	case *extensionsv1beta1.NetworkPolicy:
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(t)
		if err != nil {
			return nil
		}
		var np networkingv1.NetworkPolicy
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &np); err != nil {
			return nil
		}
		return &np
	}
	return nil
}

// policyDirections reports which directions np applies to, with the API
// server's defaulting of an empty policyTypes.
func policyDirections(np *networkingv1.NetworkPolicy) (ingress, egress bool) {
	if len(np.Spec.PolicyTypes) == 0 {
		return true, len(np.Spec.Egress) > 0
	}
	for _, t := range np.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			ingress = true
		case networkingv1.PolicyTypeEgress:
			egress = true
		}
	}
	return ingress, egress
}

// ciliumSelectors returns the endpoint selectors of a Cilium policy's rules
// ("spec" and every "specs" entry) with the directions each isolates.
// Rules Cilium would refuse, and host rules (nodeSelector), give none.
func ciliumSelectors(o *kube.Object) []policySelector {
	u, ok := o.Typed.(*unstructured.Unstructured)
	if !ok {
		return nil
	}
	var rules []map[string]any
	if spec, ok := u.Object["spec"].(map[string]any); ok {
		rules = append(rules, spec)
	}
	if specs, ok := u.Object["specs"].([]any); ok {
		for _, s := range specs {
			if m, ok := s.(map[string]any); ok {
				rules = append(rules, m)
			}
		}
	}
	var out []policySelector
	for _, r := range rules {
		if p, ok := ciliumRule(r); ok {
			out = append(out, p)
		}
	}
	return out
}

// ciliumRule reads one Cilium rule.
func ciliumRule(r map[string]any) (policySelector, bool) {
	raw, ok := r["endpointSelector"].(map[string]any)
	if !ok {
		return policySelector{}, false
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
		return policySelector{}, false
	}
	if !ciliumKeys(&ls) {
		return policySelector{}, false
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return policySelector{}, false
	}
	return policySelector{
		sel:     sel,
		ingress: ciliumDirection(r, "ingress", "ingressDeny", "Ingress"),
		egress:  ciliumDirection(r, "egress", "egressDeny", "Egress"),
		cilium:  true,
	}, true
}

// ciliumDirection reports whether rule r isolates a direction: it has
// allow or deny entries for it and does not turn default deny off.
func ciliumDirection(r map[string]any, allow, deny, field string) bool {
	n := 0
	for _, f := range []string{allow, deny} {
		if l, ok := r[f].([]any); ok {
			n += len(l)
		}
	}
	if n == 0 {
		return false
	}
	if dd, ok := r["enableDefaultDeny"].(map[string]any); ok {
		for k, v := range dd {
			if strings.EqualFold(k, field) {
				if b, ok := v.(bool); ok && !b {
					return false
				}
			}
		}
	}
	return true
}

// ciliumKeys strips the "k8s:" and "any:" sources from the selector's
// keys, which then name pod labels. It reports false when a key names
// another source ("reserved:host", "cidr:…"): such a rule selects no pod.
func ciliumKeys(ls *metav1.LabelSelector) bool {
	strip := func(k string) (string, bool) {
		src, name, found := strings.Cut(k, ":")
		if !found {
			return k, true
		}
		return name, src == "k8s" || src == "any"
	}
	if len(ls.MatchLabels) > 0 {
		m := make(map[string]string, len(ls.MatchLabels))
		for k, v := range ls.MatchLabels {
			name, ok := strip(k)
			if !ok {
				return false
			}
			m[name] = v
		}
		ls.MatchLabels = m
	}
	for i := range ls.MatchExpressions {
		name, ok := strip(ls.MatchExpressions[i].Key)
		if !ok {
			return false
		}
		ls.MatchExpressions[i].Key = name
	}
	return true
}
