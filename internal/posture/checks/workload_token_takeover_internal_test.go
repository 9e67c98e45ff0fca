package checks

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// TestWorkloadTokenTakeoverPerCluster scans two clusters together: the
// binding of one cluster gives nothing to the same service account of
// the other.
func TestWorkloadTokenTakeoverPerCluster(t *testing.T) {
	const docs = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: web-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: web, namespace: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  serviceAccountName: web
  containers:
  - {name: web, image: registry.example.com/web:1.0}
`
	var objs []*kube.Object
	for _, cluster := range []string{"prod", "dev"} {
		decoded, err := kube.Decode(t.Context(), cluster+".yaml", []byte(docs), kube.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range decoded {
			o.Source.Cluster = cluster
			// dev runs the pod, but binds nothing.
			if cluster == "prod" || o.Ref.Kind == "Pod" {
				objs = append(objs, o)
			}
		}
	}
	var got []string
	for _, r := range workloadTokenTakeover(&posture.Input{Inventory: kube.NewInventory(objs)}) {
		got = append(got, r.Object.Source.Cluster+":"+r.Object.Ref.Name+" "+r.Severity.String())
	}
	if d := cmp.Diff([]string{"prod:web critical"}, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

// TestWorkloadTokenTakeoverRepeatedBinding: a binding and role met twice
// (one chart rendered alone and as another's dependency, under one
// release name) are one path, not "1 more grant".
func TestWorkloadTokenTakeoverRepeatedBinding(t *testing.T) {
	const docs = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: metrics}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: metrics}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics}
subjects:
- {kind: ServiceAccount, name: metrics, namespace: monitoring}
`
	var objs []*kube.Object
	for _, file := range []string{"alone.yaml", "as-dependency.yaml"} {
		decoded, err := kube.Decode(t.Context(), file, []byte(docs), kube.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, decoded...)
	}
	pod, err := kube.Decode(t.Context(), "pod.yaml", []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: metrics, namespace: monitoring}\nspec:\n  serviceAccountName: metrics\n  containers: [{name: m, image: registry.example.com/m:1}]\n"), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rs := workloadTokenTakeover(&posture.Input{Inventory: kube.NewInventory(append(objs, pod...))})
	if len(rs) != 1 {
		t.Fatalf("%d findings, want 1", len(rs))
	}
	for _, e := range rs[0].Evidence {
		if e.Name == "paths" && strings.Count(e.Value, "; ") != 0 {
			t.Errorf("paths %q: the repeated binding is listed again", e.Value)
		}
	}
	if strings.Contains(rs[0].Message, "more grant") {
		t.Errorf("message %q counts the repeated binding", rs[0].Message)
	}
}

// FuzzWorkloadTokenTakeover feeds arbitrary documents, seeded with the
// fixtures, to the check: it must never panic, and every finding names
// its workload and service account.
func FuzzWorkloadTokenTakeover(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "workload_token_takeover", "*", "*.yaml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("kind: RoleBinding\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: x}\nroleRef: {kind: Role, name: r}\nsubjects: [{kind: ServiceAccount, name: default}]\n---\nkind: Pod\napiVersion: v1\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, _ := kube.Decode(t.Context(), "f.yaml", data, kube.Limits{})
		for _, r := range workloadTokenTakeover(&posture.Input{Inventory: kube.NewInventory(objs)}) {
			if r.Object == nil && r.At == nil {
				t.Fatalf("finding without object: %+v", r)
			}
			if r.Object != nil && !slices.ContainsFunc(r.Evidence, func(e finding.Evidence) bool { return e.Name == "serviceAccount" && e.Value != "" }) {
				t.Fatalf("finding without service account: %+v", r)
			}
		}
	})
}
