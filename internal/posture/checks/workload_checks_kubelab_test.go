package checks_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestWorkloadChecksLiveMatchManifests creates the pass and fail fixtures
// of the workload checks below in a real kube-apiserver — which must accept
// them, so the fixtures are objects a cluster can hold — and checks that a
// live scan of what the server stored (container port protocols, Service
// targetPorts and the like defaulted, sidecar restartPolicy and hostUsers
// kept or dropped by feature gates) gives the same findings, evidence
// included, as the manifests. Each fixture file's objects go to namespaces
// of their own ("<check>-<file>-<namespace>"), so fixtures can reuse names.
func TestWorkloadChecksLiveMatchManifests(t *testing.T) {
	ids := []string{"net-raw-capability", "container-ports", "service-ssh-port", "share-process-namespace",
		"risky-components", "run-as-high-uid", "host-path"}
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	dyn := dynamic.NewForConfigOrDie(c.Config)
	dc := discovery.NewDiscoveryClientForConfigOrDie(c.Config)
	grs, err := restmapper.GetAPIGroupResources(dc)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(grs)

	var manifests []*kube.Object
	namespaces := map[string]bool{}
	for _, id := range ids {
		files, _ := filepath.Glob(filepath.Join("testdata", dirName(id), "*", "*.yaml"))
		inv, err := kube.Load(ctx, files, nil, kube.Limits{})
		if err != nil {
			t.Fatalf("load fixtures of %s: %v", id, err)
		}
		for _, o := range inv.Objects {
			u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o.Typed)
			if err != nil {
				t.Fatalf("%s: %v", o.Ref, err)
			}
			obj := &unstructured.Unstructured{Object: u}
			obj.SetAPIVersion(o.Ref.APIVersion)
			obj.SetKind(o.Ref.Kind)
			ns := id + "-" + strconv.Itoa(slices.Index(files, o.Source.File)) + "-" + o.Ref.Namespace
			obj.SetNamespace(ns)
			if !namespaces[ns] {
				namespaces[ns] = true
				if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			m, err := mapper.RESTMapping(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version)
			if err != nil {
				t.Fatalf("%s: %v", o.Ref, err)
			}
			if _, err := dyn.Resource(m.Resource).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
				t.Fatalf("create %s from %s: %v", o.Ref, o.Source.File, err)
			}
			// The manifest side: the same object, renamespaced, decoded as a
			// file would be.
			doc, err := yaml.Marshal(obj.Object)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := kube.Decode(ctx, "manifest"+strconv.Itoa(len(manifests))+".yaml", doc, kube.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			manifests = append(manifests, objs...)
		}
	}

	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	sc := posture.NewScanner(reg.Only(ids...), nil)
	verdicts := func(inv *kube.Inventory) []string {
		out, err := sc.Scan(ctx, inv, posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var vs []string
		for _, f := range out.Findings {
			if !namespaces[f.Resource.Namespace] {
				continue // the cluster's own objects
			}
			vs = append(vs, fmt.Sprintf("%s %s %s/%s/%s %s %s", f.RuleID, f.Severity, f.Resource.Kind,
				f.Resource.Namespace, f.Resource.Name, f.Resource.Container, allEvidence(f)))
		}
		slices.Sort(vs)
		return vs
	}
	live, missing, err := kube.ListCluster(ctx, c.Config, "lab", 0)
	if err != nil || len(missing) > 0 {
		t.Fatalf("list cluster: %v %v", err, missing)
	}
	want := verdicts(kube.NewInventory(manifests))
	if len(want) == 0 {
		t.Fatal("no finding on the fixtures")
	}
	for _, id := range ids {
		if !slices.ContainsFunc(want, func(v string) bool { return strings.HasPrefix(v, posture.RulePrefix+id+" ") }) {
			t.Errorf("no finding of %s on its fixtures", id)
		}
	}
	t.Logf("%d findings on %d objects in %d namespaces", len(want), len(manifests), len(namespaces))
	if diff := cmp.Diff(want, verdicts(live)); diff != "" {
		t.Errorf("live findings differ from the manifests' (-manifests +live):\n%s", diff)
	}
}

func allEvidence(f finding.Finding) string {
	var parts []string
	for _, e := range f.Evidence {
		parts = append(parts, e.Name+"="+e.Value)
	}
	return strings.Join(parts, " ")
}
