package checks

// kube-linter no-anti-affinity and Polaris topologySpreadConstraint: the
// scheduler packs replicas wherever they fit, often several on one node,
// so one node failure (or one zone's) can take every replica down. A
// workload that may run two pods or more (replicas, or its autoscaler's
// maximum) should spread them: a pod anti-affinity term
// (required or preferred) or a topology spread constraint over any
// topology key.
//
// A term counts only when it applies to the workload's own pods: its
// label selector matches the pod's labels (a constraint's matchLabelKeys
// add the pod's own values, which its pods share) and, for anti-affinity,
// its namespaces include the pod's (none listed and no namespaceSelector
// means the pod's own; an empty namespaceSelector means all). A term that
// selects other pods keeps this workload away from them, not its
// replicas from each other.

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// PodSpread reports replicated workloads whose replicas may share a node.
func PodSpread() posture.Check {
	return posture.Check{
		ID:          "pod-spread",
		Title:       "Replicas are not spread across nodes",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "Without anti-affinity or a topology spread constraint the scheduler may place every replica on one node, which then fails them all together.",
		Remediation: "Add a topologySpreadConstraint (topologyKey kubernetes.io/hostname or topology.kubernetes.io/zone) or a podAntiAffinity term whose labelSelector matches the workload's own pod labels.",
		Scope:       posture.ScopeInventory,
		Versions:    availabilityV8(podSpreadResults),
	}
}

func podSpreadResults(in *posture.Input) []posture.Result {
	var out []posture.Result
	for _, w := range in.Inventory.Workloads {
		o := w.Object
		if !replicated(o.Ref.Kind) {
			continue
		}
		_, hi, _ := podRange(in.Inventory, o)
		if hi < 2 {
			continue
		}
		own := labels.Set(podLabels(w))
		ns := kube.AppliedNamespace(o.Meta.Namespace)
		if spreads(w.PodSpec, own, ns) {
			continue
		}
		out = append(out, posture.Result{Object: o, Path: append(append([]string{}, w.SpecPath...), "affinity"),
			Message:  o.Ref.Kind + " runs up to " + itoa(hi) + " pods with no pod anti-affinity or topology spread constraint that applies to its own pods: one node can hold them all.",
			Evidence: []finding.Evidence{key("problem", "no-spread"), ev("replicas", itoa(hi))}})
	}
	return out
}

// spreads reports whether the pod spec spreads pods labelled own, in
// namespace ns, across some topology.
func spreads(s *corev1.PodSpec, own labels.Set, ns string) bool {
	for _, c := range s.TopologySpreadConstraints {
		if selects(c.LabelSelector, own) {
			return true
		}
	}
	if s.Affinity == nil || s.Affinity.PodAntiAffinity == nil {
		return false
	}
	aa := s.Affinity.PodAntiAffinity
	terms := append([]corev1.PodAffinityTerm{}, aa.RequiredDuringSchedulingIgnoredDuringExecution...)
	for _, wt := range aa.PreferredDuringSchedulingIgnoredDuringExecution {
		terms = append(terms, wt.PodAffinityTerm)
	}
	for _, t := range terms {
		if t.TopologyKey != "" && selects(t.LabelSelector, own) && termCoversNamespace(t, ns) {
			return true
		}
	}
	return false
}

// selects reports whether a pod-affinity or spread selector picks own: a
// nil selector picks no pod.
func selects(ls *metav1.LabelSelector, own labels.Set) bool {
	if ls == nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	return err == nil && sel.Matches(own)
}

// termCoversNamespace reports whether an affinity term's namespaces
// include ns, where the workload's own pods run.
func termCoversNamespace(t corev1.PodAffinityTerm, ns string) bool {
	if t.NamespaceSelector != nil {
		if len(t.NamespaceSelector.MatchLabels) == 0 && len(t.NamespaceSelector.MatchExpressions) == 0 {
			return true // {} selects every namespace
		}
		// Namespace labels are not known here (manifests rarely carry
		// them); the name label the API server sets is.
		sel, err := metav1.LabelSelectorAsSelector(t.NamespaceSelector)
		if err == nil && sel.Matches(labels.Set{"kubernetes.io/metadata.name": ns}) {
			return true
		}
	}
	if len(t.Namespaces) == 0 {
		return t.NamespaceSelector == nil
	}
	for _, n := range t.Namespaces {
		if n == ns {
			return true
		}
	}
	return false
}
