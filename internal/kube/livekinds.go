package kube

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// LiveKind is a kind a live scan reads, with its resource for watches.
type LiveKind struct {
	GVK      schema.GroupVersionKind
	Resource string // plural, as in GroupVersionResource
}

// GVR returns the kind's GroupVersionResource.
func (k LiveKind) GVR() schema.GroupVersionResource {
	return k.GVK.GroupVersion().WithResource(k.Resource)
}

// LiveKinds lists the built-in kinds ListCluster reads, for callers that
// watch them instead (continuous posture); ServedCRDKinds adds the
// CRD-backed ones a cluster serves. Secrets are never among them.
func LiveKinds() []LiveKind {
	var out []LiveKind
	for _, lk := range liveKinds() {
		out = append(out, LiveKind{GVK: lk, Resource: resourceOf(lk)})
	}
	return out
}

// resourceOf is the plural resource of a live kind, all built in.
func resourceOf(gvk schema.GroupVersionKind) string {
	if grs := BuiltinResources(gvk.Group, gvk.Kind); len(grs) == 1 {
		return grs[0].Resource
	}
	panic("kube: live kind " + gvk.String() + " is not in the built-in resource table")
}

// LiveObject wraps an object read from a cluster (by a LIST or an informer
// cache) the way ListCluster does, or returns nil for a Pod, ReplicaSet or
// Job a controller owns: its owner's template is checked instead.
func LiveObject(obj runtime.Object, gvk schema.GroupVersionKind, cluster string) *Object {
	if controlled(obj) {
		return nil
	}
	return liveObject(obj.DeepCopyObject(), gvk, cluster)
}
