package checks

import (
	"testing"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// TestFrozenRegistry checks which image references come from a frozen
// registry: Docker Hub short names are normalized first, a prefix matches
// only whole path segments, and scans pinned to version 8 or lower do not
// run the check.
func TestFrozenRegistry(t *testing.T) {
	for _, tc := range []struct {
		image string
		want  string // registry evidence; "" for none
	}{
		{"k8s.gcr.io/pause:3.9", "k8s.gcr.io"},
		{"k8s.gcr.io/ingress-nginx/controller:v1.1.1@sha256:0bc88eb15f9e7f84e8e56c14fa5735aaa488b840983f87bd79b1054190e660de", "k8s.gcr.io"},
		{"gcr.io/google_containers/pause-amd64:3.1", "gcr.io/google_containers"},
		{"gcr.io/google-containers/busybox", "gcr.io/google-containers"},
		{"bitnamilegacy/redis:7.2", "docker.io/bitnamilegacy"},
		{"docker.io/bitnamilegacy/postgresql:16", "docker.io/bitnamilegacy"},
		{"index.docker.io/bitnamilegacy/kafka", "docker.io/bitnamilegacy"},
		{"registry.k8s.io/pause:3.9", ""},
		{"bitnami/redis:7.2", ""},
		{"k8s.gcr.io.example.com/pause", ""},
		{"gcr.io/google-containers-mirror/pause", ""},
		{"", ""},
	} {
		t.Run(tc.image, func(t *testing.T) {
			doc := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: \"" + tc.image + "\"\n"
			fs := scanDoc(t, FrozenRegistry(), posture.Latest, doc)
			var got string
			if len(fs) > 0 {
				f := fs[0]
				got = f.Evidence[0].Value
				if f.Resource.Line != 9 {
					t.Errorf("line %d, want 9 (the image)", f.Resource.Line)
				}
			}
			if len(fs) > 1 {
				t.Errorf("%d findings, want at most 1", len(fs))
			}
			if got != tc.want {
				t.Errorf("registry %q, want %q", got, tc.want)
			}
		})
	}
	if fs := scanDoc(t, FrozenRegistry(), 8, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: app\n    image: k8s.gcr.io/pause\n"); len(fs) != 0 {
		t.Errorf("a scan pinned to version 8 reported %d findings", len(fs))
	}
}

// scanDoc scans the manifest doc with check c alone, pinned to pin.
func scanDoc(t *testing.T, c posture.Check, pin posture.Version, doc string) []finding.Finding {
	t.Helper()
	objs, err := kube.Decode(t.Context(), "d.yaml", []byte(doc), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := posture.NewRegistry([]posture.Check{c}, pin)
	if err != nil {
		t.Fatal(err)
	}
	out, err := posture.NewScanner(reg, nil).Scan(t.Context(), kube.NewInventory(objs), posture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return out.Findings
}
