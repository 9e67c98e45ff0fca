package checks_test

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

	"github.com/google/go-cmp/cmp"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
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

// addFixtures adds the fixture files of checks ids, each file's objects in
// a namespace of its own ("id-index-namespace") so fixtures do not meet,
// except objects in one of keep, which stay where they are.
func (lf *liveFixtures) addFixtures(ids []string, keep ...string) {
	t := lf.t
	t.Helper()
	for _, id := range ids {
		files, _ := filepath.Glob(filepath.Join("testdata", dirName(id), "*", "*.yaml"))
		for i, f := range files {
			inv, err := kube.Load(t.Context(), []string{f}, nil, kube.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range inv.Objects {
				ns := id + "-" + strconv.Itoa(i) + "-" + o.Ref.Namespace
				if slices.Contains(keep, o.Ref.Namespace) {
					ns = o.Ref.Namespace
				}
				lf.add(o, ns, f)
			}
		}
	}
}

// matchLive checks that each of ids reports something on the added
// fixtures, and that a live scan of cfg's cluster finds, in the namespaces
// add created, exactly what the manifests do. It returns the manifests'
// verdicts.
func (lf *liveFixtures) matchLive(sc *posture.Scanner, cfg *rest.Config, ids []string) []string {
	t := lf.t
	t.Helper()
	want := scanVerdicts(t, sc, kube.NewInventory(lf.manifests), nil)
	for _, id := range ids {
		if !slices.ContainsFunc(want, func(v string) bool { return strings.HasPrefix(v, posture.RulePrefix+id+" ") }) {
			t.Errorf("no finding of %s on its fixtures", id)
		}
	}
	live, missing, err := kube.ListCluster(t.Context(), cfg, "lab", 0)
	if err != nil || len(missing) > 0 {
		t.Fatalf("list cluster: %v %v", err, missing)
	}
	if diff := cmp.Diff(want, scanVerdicts(t, sc, live, lf.namespaces)); diff != "" {
		t.Errorf("live findings differ from the manifests' (-manifests +live):\n%s", diff)
	}
	return want
}

// scanVerdicts scans inv with sc and returns, sorted, one line per finding
// ("rule Kind/namespace/name container") in namespaces nss (all when nil).
func scanVerdicts(t *testing.T, sc *posture.Scanner, inv *kube.Inventory, nss map[string]bool) []string {
	t.Helper()
	out, err := sc.Scan(t.Context(), inv, posture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, f := range out.Findings {
		if nss == nil || nss[f.Resource.Namespace] {
			vs = append(vs, f.RuleID+" "+f.Resource.Kind+"/"+f.Resource.Namespace+"/"+f.Resource.Name+" "+f.Resource.Container)
		}
	}
	slices.Sort(vs)
	return vs
}
