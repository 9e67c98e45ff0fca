package checks

// PodDisruptionBudgets bound voluntary disruptions — node drains for
// upgrades and security patches, cluster-autoscaler scale-downs — which
// go through the Eviction API. A replicated workload without one can lose
// every pod to one drain; a budget that allows no disruption makes every
// drain of its nodes stall (kubectl drain retries forever; managed
// upgrades wait, then force), so patching stops. Polaris
// missingPodDisruptionBudget, pdbDisruptionsIsZero and
// pdbMinAvailableGreaterThanHPAMinReplicas; kube-linter pdb-min-available,
// pdb-max-unavailable and pdb-unhealthy-pod-eviction-policy.
//
// The disruption controller's arithmetic is followed: the expected pod
// count is the workload's replicas, or its autoscaler's minimum (the
// count it runs at low load); a percentage is scaled to it and rounded
// up; disruptions allowed = healthy pods − minAvailable, or
// maxUnavailable − unhealthy pods. A PDB's selector picks pods in its own
// namespace (policy/v1: an empty selector picks all of them, none picks
// nothing).
//
//   - problem=missing: a workload that may run two pods or more (replicas,
//     or its autoscaler's maximum) with no PDB selecting its pods. With a
//     single pod no budget helps: minAvailable 1 blocks every drain and
//     maxUnavailable 1 allows the outage (replicas reports it).
//   - problem=zero-disruptions: maxUnavailable 0 or 0%, minAvailable 100%
//     (basis=value), or minAvailable at least the pods of a workload it
//     selects (basis=replicas), or of the minimum its autoscaler keeps
//     (basis=autoscaler); relation=greater when minAvailable exceeds those
//     pods (the budget is never met at that size), equal when it matches.
//   - problem=both-set: minAvailable and maxUnavailable together, which
//     the API server refuses.
//   - problem=unhealthy-eviction-unset (info): without
//     unhealthyPodEvictionPolicy a pod that is running but not ready can
//     be evicted only while the budget has room, so a crash-looping
//     replica blocks drains; Kubernetes recommends AlwaysAllow. An
//     explicit IfHealthyBudget is a deliberate choice and passes.

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// PodDisruptionBudget reports replicated workloads without a budget and
// budgets that block every eviction.
func PodDisruptionBudget() posture.Check {
	return posture.Check{
		ID:          "pod-disruption-budget",
		Title:       "Workload has no PodDisruptionBudget, or its budget blocks every eviction",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "Without a budget one drain can evict every replica; a budget allowing no disruption stalls every drain, so nodes are not upgraded or patched.",
		Remediation: "Give each replicated workload a PodDisruptionBudget that allows at least one disruption at its minimum size (maxUnavailable: 1 is the simplest), with unhealthyPodEvictionPolicy: AlwaysAllow.",
		Scope:       posture.ScopeInventory,
		Needs:       []string{"PodDisruptionBudget", "HorizontalPodAutoscaler"},
		Versions:    availabilityV8(disruptionBudgetResults),
	}
}

// budget is one PodDisruptionBudget, read.
type budget struct {
	obj            *kube.Object
	selector       labels.Selector // nil: selects nothing
	matchLabels    map[string]string
	minAvailable   *intstr.IntOrString
	maxUnavailable *intstr.IntOrString
	policySet      bool
	// blocked is the first workload whose pods the budget pins.
	blocked *kube.Object
	basis   string
	pods    int
	need    int // pods minAvailable asks for at that size
}

func readBudget(o *kube.Object) *budget {
	m := fieldsOf(o)
	b := &budget{obj: o}
	if v, ok := nestedIntOrString(m, "spec", "minAvailable"); ok {
		b.minAvailable = &v
	}
	if v, ok := nestedIntOrString(m, "spec", "maxUnavailable"); ok {
		b.maxUnavailable = &v
	}
	if p, _, _ := unstructured.NestedString(m, "spec", "unhealthyPodEvictionPolicy"); p != "" {
		b.policySet = true
	}
	if sel, ok, _ := unstructured.NestedMap(m, "spec", "selector"); ok {
		var ls metav1.LabelSelector
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(sel, &ls); err == nil {
			empty := len(ls.MatchLabels) == 0 && len(ls.MatchExpressions) == 0
			if !empty || o.Ref.APIVersion == "policy/v1" {
				if s, err := metav1.LabelSelectorAsSelector(&ls); err == nil {
					b.selector, b.matchLabels = s, ls.MatchLabels
				}
			}
		}
	}
	return b
}

func disruptionBudgetResults(in *posture.Input) []posture.Result {
	inv := in.Inventory
	pdbObjs := inv.OfKind("PodDisruptionBudget")
	idx := budgetIndex{}
	all := make([]*budget, 0, len(pdbObjs))
	for _, o := range pdbObjs {
		b := readBudget(o)
		idx.add(b)
		all = append(all, b)
	}
	var out []posture.Result
	for _, w := range inv.Workloads {
		o := w.Object
		if !replicated(o.Ref.Kind) {
			continue
		}
		lo, hi, sc := podRange(inv, o)
		own := podLabels(w)
		covered := false
		for _, b := range idx.candidates(kube.AppliedNamespace(o.Meta.Namespace), own) {
			if !b.selector.Matches(labels.Set(own)) {
				continue
			}
			covered = true
			noteBlocked(b, o, lo, sc)
		}
		if !covered && hi >= 2 {
			out = append(out, posture.Result{Object: o,
				Message:  o.Ref.Kind + " runs up to " + itoa(hi) + " pods and no PodDisruptionBudget selects them: one node drain can evict them all.",
				Evidence: []finding.Evidence{key("problem", "missing"), ev("replicas", itoa(hi))}})
		}
	}
	for _, b := range all {
		out = append(out, budgetResults(b)...)
	}
	return out
}

// budgetIndex finds the budgets that may select a pod without trying
// every budget of its namespace on every workload: a budget with
// matchLabels is filed under one of its label pairs, which a pod it
// selects must carry; the others (expressions only, or empty) are tried
// on every pod of their namespace.
type budgetIndex map[string]*namespaceBudgets

type namespaceBudgets struct {
	byLabel map[string][]*budget // "key=value" → budgets
	rest    []*budget
}

func (x budgetIndex) add(b *budget) {
	if b.selector == nil {
		return // selects no pod
	}
	ns := kube.AppliedNamespace(b.obj.Meta.Namespace)
	nb := x[ns]
	if nb == nil {
		nb = &namespaceBudgets{byLabel: map[string][]*budget{}}
		x[ns] = nb
	}
	for k, v := range b.matchLabels {
		nb.byLabel[k+"="+v] = append(nb.byLabel[k+"="+v], b)
		return // any one pair: a pod the budget selects carries them all
	}
	nb.rest = append(nb.rest, b)
}

// candidates returns the budgets of namespace ns that may select a pod
// labelled own, each once, in input order within each group.
func (x budgetIndex) candidates(ns string, own map[string]string) []*budget {
	nb := x[ns]
	if nb == nil {
		return nil
	}
	out := append([]*budget(nil), nb.rest...)
	for k, v := range own {
		out = append(out, nb.byLabel[k+"="+v]...)
	}
	return out
}

// noteBlocked records workload o as pinned by b when b's minAvailable
// leaves no disruption at the workload's minimum size lo.
func noteBlocked(b *budget, o *kube.Object, lo int, sc *scaler) {
	if b.blocked != nil || b.minAvailable == nil || b.maxUnavailable != nil {
		return
	}
	pods := max(lo, 1) // an autoscaler at zero has nothing to evict; at one it has
	need, ok := scaledValue(*b.minAvailable, pods, true)
	if !ok || need < pods {
		return
	}
	b.blocked, b.pods, b.need, b.basis = o, pods, need, "replicas"
	if sc != nil {
		b.basis = "autoscaler"
	}
}

func budgetResults(b *budget) []posture.Result {
	var out []posture.Result
	if b.minAvailable != nil && b.maxUnavailable != nil {
		out = append(out, posture.Result{Object: b.obj, Path: []string{"spec", "maxUnavailable"},
			Message:  "PodDisruptionBudget sets both minAvailable and maxUnavailable, which the API server refuses.",
			Evidence: []finding.Evidence{key("problem", "both-set")}})
	}
	zero := func(field, basis, msg string) {
		out = append(out, posture.Result{Object: b.obj, Path: []string{"spec", field},
			Message:  msg,
			Evidence: []finding.Evidence{key("problem", "zero-disruptions"), ev("field", field), ev("basis", basis)}})
	}
	switch {
	case b.maxUnavailable != nil && zeroOrZeroPercent(*b.maxUnavailable):
		zero("maxUnavailable", "value", "PodDisruptionBudget maxUnavailable is "+b.maxUnavailable.String()+": no pod it selects can ever be evicted, so every drain of their nodes stalls.")
	case b.blocked != nil:
		what := "replicas"
		if b.basis == "autoscaler" {
			what = "the autoscaler's minReplicas"
		}
		// Exceeding the pods is worse than equalling them: the budget is
		// then never met at that size, not just left without room.
		relation, verb := "equal", " equals the "
		if b.need > b.pods {
			relation, verb = "greater", " exceeds the "
		}
		zero("minAvailable", b.basis, "PodDisruptionBudget minAvailable "+b.minAvailable.String()+verb+itoa(b.pods)+" pod(s) of "+b.blocked.Ref.Kind+" "+b.blocked.Meta.Name+" ("+what+"): at that size no pod can be evicted and drains stall.")
		out[len(out)-1].Evidence = append(out[len(out)-1].Evidence, ev("workload", b.blocked.Ref.Kind+"/"+b.blocked.Meta.Name), ev("relation", relation))
	case b.minAvailable != nil && fullPercent(*b.minAvailable):
		zero("minAvailable", "value", "PodDisruptionBudget minAvailable is "+b.minAvailable.String()+": no pod it selects can ever be evicted, so every drain of their nodes stalls.")
	}
	if !b.policySet {
		out = append(out, posture.Result{Object: b.obj, Path: []string{"spec"}, Severity: finding.SeverityInfo,
			Message:  "PodDisruptionBudget does not set unhealthyPodEvictionPolicy: a running pod that is not ready can be evicted only while the budget has room, so a crash-looping replica blocks drains; AlwaysAllow lets it go.",
			Evidence: []finding.Evidence{key("problem", "unhealthy-eviction-unset")}})
	}
	return out
}

func zeroOrZeroPercent(v intstr.IntOrString) bool {
	n, ok := scaledValue(v, 100, true)
	return ok && n <= 0
}

func fullPercent(v intstr.IntOrString) bool {
	if v.Type != intstr.String {
		return false
	}
	n, ok := scaledValue(v, 100, true)
	return ok && n >= 100
}
