package checks

// Helpers of the reliability checks, which judge references between
// objects: a Service's selector and the workloads it selects, a workload
// and its ServiceAccount, ConfigMaps and Secrets, an autoscaler and its
// target. A manifest scan sees only the files given, so a reference it
// cannot resolve is missing "in the scanned set" and the message says so;
// a live scan sees what the cluster holds, of the kinds it could list.

import (
	"sort"
	"strings"

	"github.com/palisade-sec/palisade/internal/kube"
)

// liveObject reports whether o was listed from a cluster, not read from a
// file.
func liveObject(o *kube.Object) bool { return o.Source.File == "" }

// scannedSet names where a reference of o was looked for, for messages.
func scannedSet(o *kube.Object) string {
	if liveObject(o) {
		return "in the cluster"
	}
	return "in the scanned set"
}

// nameKey is an object's cluster, namespace as applied and name.
type nameKey struct{ cluster, ns, name string }

// nameIndex holds the objects of one kind by name, and per cluster and
// namespace.
type nameIndex struct {
	byName map[nameKey]*kube.Object
	perNS  map[nameKey][]*kube.Object // name ""
}

// namesKey names a kind's name index among an inventory's derived values.
type namesKey struct{ kind string }

// objectsNamed returns the name index of inv's objects of kind, built once
// per scan.
func objectsNamed(inv *kube.Inventory, kind string) *nameIndex {
	return inv.Derived(namesKey{kind}, func() any {
		idx := &nameIndex{byName: map[nameKey]*kube.Object{}, perNS: map[nameKey][]*kube.Object{}}
		for _, o := range inv.OfKind(kind) {
			ns := kube.AppliedNamespace(o.Meta.Namespace)
			if _, dup := idx.byName[nameKey{o.Source.Cluster, ns, o.Meta.Name}]; !dup {
				idx.byName[nameKey{o.Source.Cluster, ns, o.Meta.Name}] = o
			}
			k := nameKey{o.Source.Cluster, ns, ""}
			idx.perNS[k] = append(idx.perNS[k], o)
		}
		return idx
	}).(*nameIndex)
}

// get returns the object named name in namespace ns of from's cluster.
func (idx *nameIndex) get(from *kube.Object, ns, name string) *kube.Object {
	return idx.byName[nameKey{from.Source.Cluster, kube.AppliedNamespace(ns), name}]
}

// any reports whether namespace ns of from's cluster holds an object of
// the kind.
func (idx *nameIndex) any(from *kube.Object, ns string) bool {
	return len(idx.in(from, ns)) > 0
}

// in returns the objects of namespace ns of from's cluster, in inventory
// order.
func (idx *nameIndex) in(from *kube.Object, ns string) []*kube.Object {
	return idx.perNS[nameKey{from.Source.Cluster, kube.AppliedNamespace(ns), ""}]
}

// namespaces returns the namespaces of from's cluster holding an object of
// the kind.
func (idx *nameIndex) namespaces(from *kube.Object) []string {
	var out []string
	for k := range idx.perNS {
		if k.cluster == from.Source.Cluster {
			out = append(out, k.ns)
		}
	}
	sort.Strings(out)
	return out
}

// quoteList renders names as "a", "b".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "\"" + n + "\""
	}
	return strings.Join(q, ", ")
}
