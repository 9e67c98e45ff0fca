package checks

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/palisade-sec/palisade/internal/kube"
)

// FuzzImplied feeds arbitrary documents (custom resources of every shape,
// containers with any flags) to what the implied objects are worked out
// from, and asks the reference checks' questions: it must never panic,
// and whatever a set implies in a namespace is found there.
func FuzzImplied(f *testing.F) {
	for _, pattern := range []string{"dangling_service/*/*.yaml", "missing_config_source/*/*.yaml", "dangling_monitor/*/*.yaml"} {
		files, _ := filepath.Glob(filepath.Join("testdata", pattern))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {name: x}\nspec: {podMetadata: {labels: 3}}\n"))
	f.Add([]byte("apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: x}\nspec: {secretName: [1]}\n"))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c, image: contour, command: [contour], args: [certgen, --kube, --namespace]}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, _ := kube.Decode(t.Context(), "f.yaml", data, kube.Limits{})
		inv := kube.NewInventory(objs)
		im := impliedBy(inv)
		from := &kube.Object{Source: kube.Source{File: "f.yaml"}}
		for k, made := range im.made {
			for _, o := range made {
				if o.since > 14 {
					t.Fatalf("%+v counts from version %d", o, o.since)
				}
				if k.ns == everyNamespace {
					continue
				}
				if o.name != "" && !im.has(from, o.kind, k.ns, o.name, 14) {
					t.Fatalf("%s %s/%s made but not found", o.kind, k.ns, o.name)
				}
				if o.labels != nil && !im.selected(from, o.kind, k.ns, labels.SelectorFromSet(o.labels), 14) {
					t.Fatalf("%s in %s labelled %v made but not selected", o.kind, k.ns, o.labels)
				}
			}
		}
		_ = im.namespaces(from, "Pod", 14)
	})
}
