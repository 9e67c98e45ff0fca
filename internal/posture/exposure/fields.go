package exposure

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/palisade-sec/palisade/internal/kube"
)

// fieldsOf reads o into into, a struct of the few fields exposure needs
// with their JSON names. Gateway API and Istio kinds reach the inventory as
// *unstructured.Unstructured (kube.Decode knows no scheme for them, nor
// does a dynamic live listing); a typed object, should a caller bring one,
// is converted first. The structs here are shared by every served version
// of the kinds (Gateway API v1, v1beta1, v1alpha2; Istio v1, v1beta1,
// v1alpha3): the fields read did not change between them.
func fieldsOf(o *kube.Object, into any) error {
	var m map[string]any
	switch t := o.Typed.(type) {
	case *unstructured.Unstructured:
		m = t.Object
	case nil:
		return fmt.Errorf("read %s: no object", o.Ref)
	default:
		c, err := runtime.DefaultUnstructuredConverter.ToUnstructured(t)
		if err != nil {
			return fmt.Errorf("read %s: %w", o.Ref, err)
		}
		m = c
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, into); err != nil {
		return fmt.Errorf("read %s: %w", o.Ref, err)
	}
	return nil
}

// ofGroup returns inv's objects of kind in API group group: Gateway API
// and Istio both name a kind Gateway.
func ofGroup(inv *kube.Inventory, group, kind string) []*kube.Object {
	var out []*kube.Object
	for _, o := range inv.OfKind(kind) {
		if kube.APIGroup(o.Ref.APIVersion) == group {
			out = append(out, o)
		}
	}
	return out
}

// addOnce adds p to every workload the Service so selects, unless the
// same path through so was added before (a route naming one backend in two
// rules, or attached to a Gateway twice).
func (g *Graph) addOnce(inv *kube.Inventory, so *kube.Object, p Path) {
	svc := serviceOf(so)
	if svc == nil {
		return
	}
	k := pathKey{so, p.String()}
	if g.added[k] {
		return
	}
	if g.added == nil {
		g.added = map[pathKey]bool{}
	}
	g.added[k] = true
	g.addService(inv, so, svc, p)
}

// pathKey identifies a gateway path: its Service and its text.
type pathKey struct {
	service *kube.Object
	text    string
}

// serviceOf is the Service o holds, or nil.
func serviceOf(o *kube.Object) *corev1.Service {
	s, _ := o.Typed.(*corev1.Service)
	return s
}
