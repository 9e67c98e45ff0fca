package checks_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/palisade-sec/palisade/internal/kube"
)

// liveFixtures puts fixture objects into a real API server — which must
// accept them, so fixtures are objects a cluster can hold — and keeps the
// same objects as manifests, so that a live scan of what the server stored
// can be compared with a scan of the manifests.
type liveFixtures struct {
	t      *testing.T
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	mapper meta.RESTMapper
	// namespaces are those add created.
	namespaces map[string]bool
	// manifests are the added objects, decoded as files would be.
	manifests []*kube.Object
}

func newLiveFixtures(t *testing.T, cfg *rest.Config) *liveFixtures {
	t.Helper()
	grs, err := restmapper.GetAPIGroupResources(discovery.NewDiscoveryClientForConfigOrDie(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return &liveFixtures{
		t: t, cs: kubernetes.NewForConfigOrDie(cfg), dyn: dynamic.NewForConfigOrDie(cfg),
		mapper: restmapper.NewDiscoveryRESTMapper(grs), namespaces: map[string]bool{},
	}
}

// add creates o in namespace ns, creating ns first when needed, and keeps
// it as a manifest decoded from file.
func (lf *liveFixtures) add(o *kube.Object, ns, file string) {
	t := lf.t
	t.Helper()
	ctx := t.Context()
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o.Typed)
	if err != nil {
		t.Fatalf("%s: %v", o.Ref, err)
	}
	obj := &unstructured.Unstructured{Object: u}
	obj.SetAPIVersion(o.Ref.APIVersion)
	obj.SetKind(o.Ref.Kind)
	obj.SetNamespace(ns)
	if !lf.namespaces[ns] {
		lf.namespaces[ns] = true
		if _, err := lf.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := lf.mapper.RESTMapping(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version)
	if err != nil {
		t.Fatalf("%s: %v", o.Ref, err)
	}
	if _, err := lf.dyn.Resource(m.Resource).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create %s from %s: %v", o.Ref, o.Source.File, err)
	}
	doc, err := yaml.Marshal(obj.Object)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := kube.Decode(ctx, file, doc, kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	lf.manifests = append(lf.manifests, objs...)
}
