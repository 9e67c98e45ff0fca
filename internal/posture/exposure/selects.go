package exposure

import (
	"sort"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/palisade-sec/palisade/internal/kube"
)

// WorkloadIndex indexes an inventory's workloads whose pods run, by cluster
// and namespace, so that relating a selector (a Service's, a
// NetworkPolicy's, a ServiceMonitor's Services) to what it selects looks at
// one namespace, not at every workload of the inventory.
type WorkloadIndex struct {
	byNS map[nsKey][]*kube.Workload
}

// nsKey is a cluster and a namespace as applied (kube.AppliedNamespace).
type nsKey struct{ cluster, ns string }

// workloadsKey names the index among an inventory's derived values.
type workloadsKey struct{}

// IndexWorkloads returns the workload index of inv, built once per
// inventory.
func IndexWorkloads(inv *kube.Inventory) *WorkloadIndex {
	return inv.Derived(workloadsKey{}, func() any {
		idx := &WorkloadIndex{byNS: map[nsKey][]*kube.Workload{}}
		for _, w := range inv.Workloads {
			k := nsKey{w.Object.Source.Cluster, kube.AppliedNamespace(w.Object.Meta.Namespace)}
			idx.byNS[k] = append(idx.byNS[k], w)
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

// Running reports whether namespace ns of cluster holds a workload whose
// pods run: one that is not a PodTemplate, which starts none.
func (idx *WorkloadIndex) Running(cluster, ns string) bool {
	for _, w := range idx.In(cluster, ns) {
		if w.Object.Ref.Kind != "PodTemplate" {
			return true
		}
	}
	return false
}

// AnySelected reports whether sel matches the pod labels of a workload of
// namespace ns of cluster whose pods run.
func (idx *WorkloadIndex) AnySelected(cluster, ns string, sel labels.Selector) bool {
	for _, w := range idx.In(cluster, ns) {
		if w.Object.Ref.Kind != "PodTemplate" && sel.Matches(labels.Set(w.PodMeta.Labels)) {
			return true
		}
	}
	return false
}
