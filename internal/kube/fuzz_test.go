package kube

import (
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic,
// every object it returns must have a kind, and lines must be positive.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(multiDoc))
	f.Add([]byte("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}]}"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nspec:\n  <<: {hostNetwork: true}\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, _ := Decode(t.Context(), "fuzz.yaml", data, Limits{MaxFileSize: 1 << 20, MaxDocuments: 1000})
		for _, o := range objs {
			if o.Ref.Kind == "" || o.Source.Line <= 0 {
				t.Fatalf("object %+v without kind or line", o.Ref)
			}
			_ = o.Line("spec", "containers", "0", "image")
			if w := WorkloadOf(o); w != nil {
				_ = w.AllContainers()
			}
		}
	})
}

// FuzzPatchPaths feeds arbitrary kustomizations to the patch reader: it
// must never panic, and every path it returns is relative and not empty.
func FuzzPatchPaths(f *testing.F) {
	f.Add([]byte("patches:\n  - path: p.yaml\npatchesStrategicMerge: [s.yaml, \"a: 1\\nb: 2\"]\npatchesJson6902: [{path: j.yaml}]\n"))
	f.Add([]byte("patches: {path: x}\n"))
	f.Add([]byte("patchesStrategicMerge: [/etc/passwd, '  ']\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range parsePatchPaths(data) {
			if p == "" || filepath.IsAbs(p) {
				t.Fatalf("patch path %q from %q", p, data)
			}
		}
	})
}
