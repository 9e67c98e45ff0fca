package kube

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestInputSize checks the input size a scan sizes its heap by: the files
// Load reads (manifests under directories, hidden directories skipped, a
// named file whatever its name; not a chart's templates), stdin and
// unreadable paths nothing, and
// no more counting once max is reached.
func TestInputSize(t *testing.T) {
	dir := t.TempDir()
	for name, size := range map[string]int{"a.yaml": 100, "b.JSON": 50, "c.bin": 1000, "sub/d.yml": 10, "sub/README.md": 7, ".git/e.yaml": 3, "chart/Chart.yaml": 20, "chart/templates/f.yaml": 5} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		paths []string
		max   int64
		want  int64
	}{
		{[]string{dir}, 1 << 20, 160},
		{[]string{filepath.Join(dir, "a.yaml"), "-"}, 1 << 20, 100},
		{[]string{filepath.Join(dir, "sub"), filepath.Join(dir, "nope.yaml")}, 1 << 20, 10},
		{[]string{filepath.Join(dir, "c.bin")}, 1 << 20, 1000},
		{[]string{dir, dir}, 120, 150}, // a.yaml, then b.JSON passes max: the walk stops
		{nil, 1 << 20, 0},
	}
	for _, tt := range tests {
		if got := InputSize(tt.paths, tt.max); got != tt.want {
			t.Errorf("InputSize(%q, %d) = %d, want %d", tt.paths, tt.max, got, tt.want)
		}
	}
}

// TestLoadSkipsKustomizePatches: in a directory walk, the files a
// kustomization names as patches are partial objects, skipped with the
// kustomization named; a patch named on the command line is judged.
func TestLoadSkipsKustomizePatches(t *testing.T) {
	dir := t.TempDir()
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: nginx}]\n"
	for name, body := range map[string]string{
		"base/deploy.yaml":                  deploy,
		"base/kustomization.yaml":           "resources: [deploy.yaml]\n",
		"overlays/prod/kustomization.yaml":  "resources: [../../base]\npatches:\n  - path: patch.yaml\n  - patch: |-\n      - op: add\n        path: /x\n    target: {kind: Deployment}\npatchesStrategicMerge:\n  - replicas.yaml\n  - |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: web}\npatchesJson6902:\n  - path: ops.yaml\n    target: {kind: Deployment, name: web}\n",
		"overlays/prod/patch.yaml":          "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n",
		"overlays/prod/replicas.yaml":       "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 5}\n",
		"overlays/prod/ops.yaml":            "- op: replace\n  path: /spec/replicas\n  value: 2\n",
		"overlays/prod/configmap.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
		"overlays/broken/kustomization.yml": "patches: [\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv, _ := Load(t.Context(), []string{dir}, nil, Limits{})
	var refs []string
	for _, o := range inv.Objects {
		refs = append(refs, o.Ref.String()+" "+filepath.Base(o.Source.File))
	}
	slices.Sort(refs)
	if want := []string{"ConfigMap/settings configmap.yaml", "Deployment/web deploy.yaml"}; !slices.Equal(refs, want) {
		t.Errorf("objects %q, want %q", refs, want)
	}
	patches := map[string]bool{}
	for _, s := range inv.Skipped {
		if errors.Is(s, ErrKustomizePatch) {
			patches[filepath.Base(s.File)] = true
			if !strings.Contains(s.Error(), filepath.Join("prod", "kustomization.yaml")) {
				t.Errorf("skipped %v does not name its kustomization", s)
			}
		}
	}
	if want := map[string]bool{"patch.yaml": true, "replicas.yaml": true, "ops.yaml": true}; !maps.Equal(patches, want) {
		t.Errorf("patches skipped %v, want %v", patches, want)
	}
	named, err := Load(t.Context(), []string{filepath.Join(dir, "overlays", "prod", "patch.yaml")}, nil, Limits{})
	if err != nil || len(named.Objects) != 1 {
		t.Errorf("a patch named on the command line: %d objects, %v; want it judged", len(named.Objects), err)
	}
}
