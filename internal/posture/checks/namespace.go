package checks

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// userNamespaces returns the Namespace objects of the inventory that are
// not the control plane's. Namespace checks judge only declared namespaces:
// a manifest that deploys into a namespace it does not declare says
// nothing about that namespace's quota or labels.
func userNamespaces(in *posture.Input) []*kube.Object {
	var out []*kube.Object
	for _, o := range in.Inventory.OfKind("Namespace") {
		if _, ok := o.Typed.(*corev1.Namespace); ok && !systemNamespace(o.Ref.Name) {
			out = append(out, o)
		}
	}
	return out
}

// hasInNamespace reports whether the inventory has an object of kind in ns.
func hasInNamespace(inv *kube.Inventory, kind, ns string) bool {
	for _, o := range inv.OfKind(kind) {
		if o.Ref.Namespace == ns {
			return true
		}
	}
	return false
}
