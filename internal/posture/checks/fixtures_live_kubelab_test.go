package checks_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestWorkloadFixturesLive puts the pass and fail fixtures of the workload
// checks on a real kube-apiserver and checks that a live scan of what it
// stored gives the verdicts the manifests do: the server defaults fields
// (hostPort under hostNetwork, protocols, pull policies, termination
// settings) a verdict may rest on.
func TestWorkloadFixturesLive(t *testing.T) {
	ids := []string{"pss-baseline", "privileged", "host-namespaces", "run-as-root", "allow-privilege-escalation",
		"dangerous-capabilities", "drop-all-capabilities", "read-only-root-filesystem", "resources", "probes",
		"image-tag", "untrusted-registry", "default-service-account", "automount-service-account-token",
		"env-secret-literal", "secret-env-var", "host-port", "host-path", "secret-shared", "pss-restricted", "frozen-registry"}
	fl := startFixtureLab(t)
	fl.addFixtures(ids)
	// default-namespace is about one namespace: its fixtures stay there.
	fl.addFixtures([]string{"default-namespace"}, "default")
	fl.match(append(ids, "default-namespace"), posture.Latest)
}

// TestNamespaceAndNetworkFixturesLive does the same for the checks of
// namespaces, NetworkPolicies, Services and Ingresses; each fixture's
// Namespace objects are created with their labels, under the fixture's own
// names.
func TestNamespaceAndNetworkFixturesLive(t *testing.T) {
	ids := []string{"network-default-deny", "network-pod-isolation", "network-allow-all", "service-exposed",
		"ingress-tls", "namespace-resource-quota", "namespace-limit-range", "namespace-psa-labels",
		"default-service-account-automount", "configmap-secrets", "ingress-nginx-snippets", "ingress-nginx-injection", "ingress-nginx-eol"}
	fl := startFixtureLab(t)
	fl.addFixtures(ids)
	fl.match(ids, posture.Latest)

	// Pinned to 5, network-default-deny counts a PodTemplate, which no
	// live scan lists (it starts no pod), as a workload of its namespace.
	reg, err := posture.NewRegistry(checks.All(), 5)
	if err != nil {
		t.Fatal(err)
	}
	want, live := fl.verdicts(posture.NewScanner(reg.Only("network-default-deny"), nil))
	var manifestOnly []string
	for _, v := range want {
		if !slices.Contains(live, v) {
			manifestOnly = append(manifestOnly, v)
		}
	}
	// The fixture namespaces that hold a PodTemplate and no running
	// workload or NetworkPolicy.
	kinds := map[string][]string{}
	for _, o := range fl.manifests {
		kinds[o.Ref.Namespace] = append(kinds[o.Ref.Namespace], o.Ref.Kind)
	}
	var wantOnly []string
	for ns, ks := range kinds {
		if ns != "" && slices.Contains(ks, "PodTemplate") && !slices.ContainsFunc(ks, func(k string) bool {
			return slices.Contains([]string{"Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
				"ReplicationController", "NetworkPolicy"}, k)
		}) {
			wantOnly = append(wantOnly, "network-default-deny medium Namespace/"+ns+"/"+ns+"  namespace="+ns)
		}
	}
	if len(wantOnly) < 2 {
		t.Errorf("fixtures have %d namespaces with only a PodTemplate, want ≥ 2 (network-pod-isolation's and network-default-deny's)", len(wantOnly))
	}
	slices.Sort(wantOnly)
	if !slices.Equal(manifestOnly, wantOnly) || len(live) != len(want)-len(wantOnly) {
		t.Errorf("pinned to 5: manifest-only verdicts %q (live %d, manifests %d), want %q",
			manifestOnly, len(live), len(want), wantOnly)
	}
}

// TestRBACFixturesLive does the same for every RBAC check, with the
// cluster's bootstrap roles and bindings in both inventories (fixtures bind
// cluster-admin, edit, view). Fixtures in kube-system stay there, renamed
// like cluster-scoped objects, so names the checks judge (the system:
// prefix, the bootstrap label) keep their meaning.
func TestRBACFixturesLive(t *testing.T) {
	var ids []string
	for _, c := range checks.All() {
		if c.Category == "rbac" {
			ids = append(ids, c.ID)
		}
	}
	fl := startFixtureLab(t)
	waitFor(t, func() bool {
		_, err := fl.lf.cs.CoreV1().Namespaces().Get(t.Context(), "kube-system", metav1.GetOptions{})
		return err == nil
	})
	fl.addFixtures(ids, "kube-system")
	fl.match(ids, posture.Latest)
}

// TestHostPortDefaultingLive shows the divergence host-port and
// pss-baseline version 6 fix: the API server stores a hostNetwork pod's
// containerPorts as its hostPorts too, so at version 5 both checks report
// the stored pod and not its manifest; at version 6 they agree.
func TestHostPortDefaultingLive(t *testing.T) {
	fl := startFixtureLab(t)
	fl.addFile("host-port", 0, filepath.Join("testdata", "host_port", "fail", "host_network_container_port.yaml"))
	const defaulted = "reason=hostPort"
	for _, tc := range []struct {
		pin      posture.Version
		manifest bool // the manifest's verdicts have host-port and the PSS hostPort reason
	}{{5, false}, {6, true}, {posture.Latest, true}} {
		reg, err := posture.NewRegistry(checks.All(), tc.pin)
		if err != nil {
			t.Fatal(err)
		}
		want, live := fl.verdicts(posture.NewScanner(reg.Only("host-port", "pss-baseline"), nil))
		has := func(vs []string) bool {
			s := strings.Join(vs, "\n")
			return strings.Contains(s, "host-port medium Pod/") && strings.Contains(s, defaulted)
		}
		if !has(live) {
			t.Errorf("pinned to %d: live verdicts %q, want host-port and %s on the stored pod", tc.pin, live, defaulted)
		}
		if has(want) != tc.manifest {
			t.Errorf("pinned to %d: manifest verdicts %q, want host-port and %s: %v", tc.pin, want, defaulted, tc.manifest)
		}
		if d := cmp.Diff(want, live); (d == "") != tc.manifest {
			t.Errorf("pinned to %d: live and manifest agree: %v, want %v (-manifest +live):\n%s", tc.pin, d == "", tc.manifest, d)
		}
	}
}

// fixtureLab creates fixture files on a kubelab API server and keeps, for
// each, the objects it sent as manifests.
type fixtureLab struct {
	lf  *liveFixtures
	cfg *kubelab.Cluster
	// owner maps "Kind/namespace/name" of each created object to the check
	// whose fixture it came from.
	owner map[string]string
	// manifests are the created objects as sent, decoded as files are.
	manifests []*kube.Object
	skipped   int
}

// startFixtureLab starts a kubelab serving, besides the built-in kinds,
// the CRD kinds a live scan reads (Cilium policies, Gateway API, Istio), so
// fixtures of those kinds are created and listed too.
func startFixtureLab(t *testing.T) *fixtureLab {
	c := kubelabtest.Start(t, kubelab.Options{})
	if err := kube.InstallLabCRDs(t.Context(), c.Config, kube.CRDKinds()); err != nil {
		t.Fatal(err)
	}
	return &fixtureLab{lf: newLiveFixtures(t, c.Config), cfg: c, owner: map[string]string{}}
}

// addFixtures adds every fixture file of checks ids; objects in one of the
// keep namespaces stay there (renamed, as cluster-scoped objects are).
func (fl *fixtureLab) addFixtures(ids []string, keep ...string) {
	for _, id := range ids {
		files, _ := filepath.Glob(filepath.Join("testdata", dirName(id), "*", "*.yaml"))
		if len(files) == 0 {
			fl.lf.t.Fatalf("no fixtures for %s", id)
		}
		for i, f := range files {
			fl.addFile(id, i, f, keep...)
		}
	}
}

// addFile creates the objects of fixture file (the i-th of check id). Its
// namespaces become "<id>-<i>-<namespace>" (namespace-less objects count as
// in default), created from the fixture's Namespace objects where it has
// them; cluster-scoped objects, and objects in keep namespaces, get the
// suffix "-<id>-<i>", and bindings' roleRefs and subjects follow. If the
// server refuses an object (a server-side dry run), the file's other
// objects are not created and the test logs why; namespaces already made
// stay, as manifests too, so both scans see them.
func (fl *fixtureLab) addFile(id string, i int, file string, keep ...string) {
	t := fl.lf.t
	t.Helper()
	ctx := t.Context()
	inv, err := kube.Load(ctx, []string{file}, nil, kube.Limits{})
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	tag := fmt.Sprintf("%.40s-%d", id, i)
	nsOf := func(ns string) string {
		if ns == "" {
			ns = "default"
		}
		if slices.Contains(keep, ns) {
			return ns
		}
		return tag + "-" + ns
	}
	type planned struct {
		obj     *unstructured.Unstructured
		mapping *meta.RESTMapping
	}
	var plan []planned
	renamed := map[string]string{} // "Kind/namespace/name" → new name
	for _, o := range inv.Objects {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o.Typed)
		if err != nil {
			t.Fatalf("%s: %v", o.Ref, err)
		}
		obj := &unstructured.Unstructured{Object: u}
		obj.SetAPIVersion(o.Ref.APIVersion)
		obj.SetKind(o.Ref.Kind)
		m, err := fl.lf.mapper.RESTMapping(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version)
		if err != nil {
			t.Logf("skip %s: the API server does not serve %s: %v", file, o.Ref, err)
			fl.skipped++
			return
		}
		switch {
		case o.Ref.Kind == "Namespace":
			if slices.Contains(keep, obj.GetName()) {
				t.Logf("skip %s: it declares namespace %s, which the cluster has", file, obj.GetName())
				fl.skipped++
				return
			}
			obj.SetName(nsOf(obj.GetName()))
		case m.Scope.Name() == meta.RESTScopeNameRoot:
			renamed[o.Ref.Kind+"//"+obj.GetName()] = obj.GetName() + "-" + tag
		default:
			ns := nsOf(obj.GetNamespace())
			if slices.Contains(keep, ns) {
				renamed[o.Ref.Kind+"/"+ns+"/"+obj.GetName()] = obj.GetName() + "-" + tag
			}
			obj.SetNamespace(ns)
		}
		plan = append(plan, planned{obj, m})
	}
	for _, p := range plan {
		if n, ok := renamed[p.obj.GetKind()+"/"+p.obj.GetNamespace()+"/"+p.obj.GetName()]; ok {
			p.obj.SetName(n)
		}
		followRenames(p.obj, nsOf, renamed)
	}

	// Namespaces first: the fixture's own, then those its objects need.
	declared := map[string]bool{}
	var rest []planned
	for _, p := range plan {
		if p.obj.GetKind() == "Namespace" {
			declared[p.obj.GetName()] = true
			if err := fl.create(id, file, p.obj, p.mapping, true); err != nil {
				t.Logf("skip %s: the API server refuses Namespace %s: %v", file, p.obj.GetName(), err)
				fl.skipped++
				return
			}
			continue
		}
		rest = append(rest, p)
	}
	nsMapping, err := fl.lf.mapper.RESTMapping(schema.GroupKind{Kind: "Namespace"}, "v1")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rest {
		ns := p.obj.GetNamespace()
		if ns == "" || declared[ns] || slices.Contains(keep, ns) {
			continue
		}
		declared[ns] = true
		n := &unstructured.Unstructured{}
		n.SetAPIVersion("v1")
		n.SetKind("Namespace")
		n.SetName(ns)
		if err := fl.create(id, file, n, nsMapping, true); err != nil {
			t.Fatalf("create namespace %s for %s: %v", ns, file, err)
		}
	}
	for _, p := range rest {
		if err := fl.create(id, file, p.obj, p.mapping, false); err != nil {
			t.Logf("skip %s: the API server refuses %s %s/%s: %v", file, p.obj.GetKind(), p.obj.GetNamespace(), p.obj.GetName(), err)
			fl.skipped++
			return
		}
	}
	for _, p := range rest {
		if err := fl.create(id, file, p.obj, p.mapping, true); err != nil {
			t.Fatalf("create %s %s/%s from %s after its dry run passed: %v", p.obj.GetKind(), p.obj.GetNamespace(), p.obj.GetName(), file, err)
		}
	}
}

// create creates obj (for real, or as a server-side dry run) and, when
// real, keeps it as a manifest owned by check id.
func (fl *fixtureLab) create(id, file string, obj *unstructured.Unstructured, m *meta.RESTMapping, real bool) error {
	t := fl.lf.t
	t.Helper()
	opts := metav1.CreateOptions{}
	if !real {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var err error
	if m.Scope.Name() == meta.RESTScopeNameRoot {
		_, err = fl.lf.dyn.Resource(m.Resource).Create(t.Context(), obj, opts)
	} else {
		_, err = fl.lf.dyn.Resource(m.Resource).Namespace(obj.GetNamespace()).Create(t.Context(), obj, opts)
	}
	if err != nil || !real {
		return err
	}
	doc, err := yaml.Marshal(obj.Object)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := kube.Decode(t.Context(), file, doc, kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	fl.manifests = append(fl.manifests, objs...)
	fl.owner[obj.GetKind()+"/"+obj.GetNamespace()+"/"+obj.GetName()] = id
	return nil
}

// followRenames points obj's references at the renamed and moved objects
// of its file: a binding's roleRef and its subjects' namespaces, and the
// service-account users and groups that name a namespace.
func followRenames(obj *unstructured.Unstructured, nsOf func(string) string, renamed map[string]string) {
	if k := obj.GetKind(); k != "RoleBinding" && k != "ClusterRoleBinding" {
		return
	}
	if ref, ok, _ := unstructured.NestedStringMap(obj.Object, "roleRef"); ok {
		ns := ""
		if ref["kind"] == "Role" {
			ns = obj.GetNamespace()
		}
		if n, ok := renamed[ref["kind"]+"/"+ns+"/"+ref["name"]]; ok {
			_ = unstructured.SetNestedField(obj.Object, n, "roleRef", "name")
		}
	}
	subjects, _, _ := unstructured.NestedSlice(obj.Object, "subjects")
	for i, s := range subjects {
		m, ok := s.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		switch m["kind"] {
		case "ServiceAccount":
			if ns, _ := m["namespace"].(string); ns != "" {
				m["namespace"] = nsOf(ns)
			}
		case "User":
			if parts := strings.Split(name, ":"); len(parts) == 4 && parts[0] == "system" && parts[1] == "serviceaccount" {
				m["name"] = "system:serviceaccount:" + nsOf(parts[2]) + ":" + parts[3]
			}
		case "Group":
			if ns, ok := strings.CutPrefix(name, "system:serviceaccounts:"); ok && ns != "" {
				m["name"] = "system:serviceaccounts:" + nsOf(ns)
			}
		}
		subjects[i] = m
	}
	if subjects != nil {
		_ = unstructured.SetNestedSlice(obj.Object, subjects, "subjects")
	}
}

// verdicts lists the cluster and returns the findings of sc, one line each
// with severity and evidence, on the manifests (next to the cluster's own
// objects, as listed) and on the live objects.
func (fl *fixtureLab) verdicts(sc *posture.Scanner) (manifests, live []string) {
	t := fl.lf.t
	t.Helper()
	liveInv, missing, err := kube.ListCluster(t.Context(), fl.cfg.Config, "lab", 0)
	if err != nil || len(missing) > 0 {
		t.Fatalf("list cluster: %v %v", err, missing)
	}
	var objs []*kube.Object
	for _, o := range fl.manifests {
		a, err := meta.Accessor(o.Typed)
		if err != nil {
			t.Fatalf("%s: %v", o.Ref, err)
		}
		if ref := metav1.GetControllerOf(a); ref != nil && slices.Contains([]string{"Pod", "ReplicaSet", "Job"}, o.Ref.Kind) &&
			slices.Contains([]string{"ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController"}, ref.Kind) {
			// kube.ListCluster leaves out what a controller owns (its
			// owner's template is judged), by design; a file export keeps
			// it, so a manifest scan reports it again.
			t.Logf("%s is owned by %s %s: not listed live, left out of the manifests", o.Ref, ref.Kind, ref.Name)
			continue
		}
		objs = append(objs, o)
	}
	for _, o := range liveInv.Objects {
		if _, mine := fl.owner[o.Ref.Kind+"/"+o.Ref.Namespace+"/"+o.Ref.Name]; mine {
			continue
		}
		// The cluster's own objects, as a file would hold them: one
		// inventory, not a cluster beside the manifests.
		b := *o
		b.Source = kube.Source{}
		objs = append(objs, &b)
	}
	return fl.scan(sc, kube.NewInventory(objs)), fl.scan(sc, liveInv)
}

func (fl *fixtureLab) scan(sc *posture.Scanner, inv *kube.Inventory) []string {
	t := fl.lf.t
	out, err := sc.Scan(t.Context(), inv, fixtureOptions)
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, f := range out.Findings {
		vs = append(vs, verdictLine(f))
	}
	slices.Sort(vs)
	return vs
}

func verdictLine(f finding.Finding) string {
	r := f.Resource
	return fmt.Sprintf("%s %s %s/%s/%s %s %s", strings.TrimPrefix(f.RuleID, posture.RulePrefix), f.Severity,
		r.Kind, r.Namespace, r.Name, r.Container, allEvidence(f))
}

// match checks, with the registry pinned to pin, that every check of ids
// reports at least one object of its own fixtures, and that the live scan
// finds exactly what the manifests' does.
func (fl *fixtureLab) match(ids []string, pin posture.Version) {
	t := fl.lf.t
	t.Helper()
	reg, err := posture.NewRegistry(checks.All(), pin)
	if err != nil {
		t.Fatal(err)
	}
	want, live := fl.verdicts(posture.NewScanner(reg.Only(ids...), nil))
	reported := map[string]int{}
	out, err := posture.NewScanner(reg.Only(ids...), nil).Scan(t.Context(), kube.NewInventory(fl.manifests), fixtureOptions)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range out.Findings {
		r := f.Resource
		ns := r.Namespace
		if r.Kind == "Namespace" {
			ns = ""
		}
		if owner := fl.owner[r.Kind+"/"+ns+"/"+r.Name]; owner == strings.TrimPrefix(f.RuleID, posture.RulePrefix) {
			reported[owner]++
		}
	}
	for _, id := range ids {
		if reported[id] == 0 {
			t.Errorf("%s reports nothing on its own fixtures as the API server took them", id)
		}
	}
	t.Logf("%d manifests (%d fixture files skipped), %d findings; per check on its own fixtures: %v",
		len(fl.manifests), fl.skipped, len(want), reported)
	if diff := cmp.Diff(want, live); diff != "" {
		t.Errorf("live findings differ from the manifests' (-manifests +live):\n%s", diff)
	}
}
