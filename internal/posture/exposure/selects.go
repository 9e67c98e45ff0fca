package exposure

import (
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/palisade-sec/palisade/internal/kube"
)

// WorkloadIndex indexes an inventory's workloads whose pods run, by cluster
// and namespace, so that relating a selector (a Service's, a
// NetworkPolicy's, a ServiceMonitor's Services) to what it selects looks at
// one namespace, not at every workload of the inventory.
type WorkloadIndex struct {
	byNS map[nsKey][]*kube.Workload
	// byLabel holds the workloads of a namespace by one pod label, so a
	// selector requiring a label value looks at those workloads only (a
	// namespace of thousands of workloads and Services stays linear).
	byLabel map[labelKey][]*kube.Workload
}

// labelKey is a namespace and one label key and value.
type labelKey struct {
	ns         nsKey
	key, value string
}

// nsKey is a cluster and a namespace as applied (kube.AppliedNamespace).
type nsKey struct{ cluster, ns string }

// workloadsKey names the index among an inventory's derived values.
type workloadsKey struct{}

// IndexWorkloads returns the workload index of inv, built once per
// inventory.
func IndexWorkloads(inv *kube.Inventory) *WorkloadIndex {
	return inv.Derived(workloadsKey{}, func() any {
		idx := &WorkloadIndex{byNS: map[nsKey][]*kube.Workload{}, byLabel: map[labelKey][]*kube.Workload{}}
		for _, w := range inv.Workloads {
			k := nsKey{w.Object.Source.Cluster, kube.AppliedNamespace(w.Object.Meta.Namespace)}
			idx.byNS[k] = append(idx.byNS[k], w)
			for lk, lv := range w.PodMeta.Labels {
				idx.byLabel[labelKey{k, lk, lv}] = append(idx.byLabel[labelKey{k, lk, lv}], w)
			}
		}
		return idx
	}).(*WorkloadIndex)
}

// In returns the workloads of namespace ns (as applied) of cluster, in
// inventory order, PodTemplates included.
func (idx *WorkloadIndex) In(cluster, ns string) []*kube.Workload {
	return idx.byNS[nsKey{cluster, kube.AppliedNamespace(ns)}]
}

// Namespaces returns the namespaces (as applied) of cluster that hold a
// workload, sorted.
func (idx *WorkloadIndex) Namespaces(cluster string) []string {
	var out []string
	for k := range idx.byNS {
		if k.cluster == cluster {
			out = append(out, k.ns)
		}
	}
	sort.Strings(out)
	return out
}

// Selected returns the workloads of namespace ns of cluster whose pods
// run and whose pod labels sel matches, in inventory order.
func (idx *WorkloadIndex) Selected(cluster, ns string, sel labels.Selector) []*kube.Workload {
	var out []*kube.Workload
	for _, w := range idx.candidates(cluster, ns, sel) {
		if w.Object.Ref.Kind != "PodTemplate" && sel.Matches(labels.Set(w.PodMeta.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

// candidates returns the workloads of namespace ns that sel may match:
// for a selector requiring a label value, the smallest set of workloads
// carrying one of its required values; else all of the namespace's.
func (idx *WorkloadIndex) candidates(cluster, ns string, sel labels.Selector) []*kube.Workload {
	k := nsKey{cluster, kube.AppliedNamespace(ns)}
	out := idx.byNS[k]
	reqs, _ := sel.Requirements()
	for _, r := range reqs {
		if kube.PerPodLabel(r.Key()) {
			continue // no template holds it: index lookups would find nothing
		}
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			if vals := r.Values(); vals.Len() == 1 {
				if ws := idx.byLabel[labelKey{k, r.Key(), vals.UnsortedList()[0]}]; len(ws) < len(out) {
					out = ws
				}
			}
		}
	}
	return out
}

// AnySelected reports whether sel matches the pod labels of a workload of
// namespace ns of cluster whose pods run.
func (idx *WorkloadIndex) AnySelected(cluster, ns string, sel labels.Selector) bool {
	for _, w := range idx.candidates(cluster, ns, sel) {
		if w.Object.Ref.Kind != "PodTemplate" && sel.Matches(labels.Set(w.PodMeta.Labels)) {
			return true
		}
	}
	return false
}

// anyPodMatches reports whether sel matches the labels of one of w's
// pods as its controller labels them (kube.Workload.StatefulSetPods):
// asked only when the template's labels do not match, and answered from
// the pods' labels only for a selector that names one of them.
func anyPodMatches(w *kube.Workload, sel labels.Selector) bool {
	reqs, _ := sel.Requirements()
	if !slices.ContainsFunc(reqs, func(r labels.Requirement) bool { return kube.PerPodLabel(r.Key()) }) {
		return false
	}
	for _, pod := range w.StatefulSetPods() {
		if sel.Matches(labels.Set(pod)) {
			return true
		}
	}
	return false
}
