package checks

// Helpers of the reliability checks, which judge references between
// objects: a Service's selector and the workloads it selects, a workload
// and its ServiceAccount, ConfigMaps and Secrets, an autoscaler and its
// target. A manifest scan sees only the files given, so a reference it
// cannot resolve is missing "in the scanned set" and the message says so;
// a live scan sees what the cluster holds, of the kinds it could list.

import (
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

// nameIndex holds the objects of one kind by name, and how many there are
// per cluster and namespace.
type nameIndex struct {
	byName map[nameKey]*kube.Object
	perNS  map[nameKey]int // name ""
}

// namesKey names a kind's name index among an inventory's derived values.
type namesKey struct{ kind string }

// objectsNamed returns the name index of inv's objects of kind, built once
// per scan.
func objectsNamed(inv *kube.Inventory, kind string) *nameIndex {
	return inv.Derived(namesKey{kind}, func() any {
		idx := &nameIndex{byName: map[nameKey]*kube.Object{}, perNS: map[nameKey]int{}}
		for _, o := range inv.OfKind(kind) {
			ns := kube.AppliedNamespace(o.Meta.Namespace)
			if _, dup := idx.byName[nameKey{o.Source.Cluster, ns, o.Meta.Name}]; !dup {
				idx.byName[nameKey{o.Source.Cluster, ns, o.Meta.Name}] = o
			}
			idx.perNS[nameKey{o.Source.Cluster, ns, ""}]++
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
	return idx.perNS[nameKey{from.Source.Cluster, kube.AppliedNamespace(ns), ""}] > 0
}

// quoteList renders names as "a", "b".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "\"" + n + "\""
	}
	return strings.Join(q, ", ")
}
