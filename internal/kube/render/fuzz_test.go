package render

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/palisade-sec/palisade/internal/kube"
)

// FuzzPlaceAtOrigins feeds placeAtOrigins whatever an origin annotation
// may hold (kustomize writes it; a manifest may carry one of its own): it
// never panics, always removes the annotation, and places an object only
// at a document of its own kind.
func FuzzPlaceAtOrigins(f *testing.F) {
	for _, s := range []string{
		"path: ../base/workloads.yaml\n",
		"configuredIn: kustomization.yaml\nconfiguredBy:\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n",
		"path: examples/app.yaml\nrepo: https://github.com/example/app\nref: v1\n",
		"path: ../../../../../../etc/hostname\n",
		"path: [\n", "", "- path: x\n", "path: ../base\n",
	} {
		f.Add(s, "Deployment", "prod-api-worker-v2")
	}
	f.Fuzz(func(t *testing.T, anno, kind, name string) {
		o := &kube.Object{
			Ref:    kube.Ref{Kind: kind, Name: name},
			Source: kube.Source{File: "built", Line: 7},
			Meta:   metav1.ObjectMeta{Name: name, Annotations: map[string]string{originAnnotation: anno, "keep": "me"}},
		}
		placeAtOrigins(t.Context(), "testdata/kustomize-origins/overlay", []*kube.Object{o}, kube.Limits{MaxFileSize: 1 << 20})
		if _, ok := o.Meta.Annotations[originAnnotation]; ok {
			t.Fatal("the origin annotation stayed")
		}
		if o.Meta.Annotations["keep"] != "me" {
			t.Fatal("another annotation went")
		}
		if o.Source.File != "built" && o.Source.Line < 1 {
			t.Fatalf("placed at %s:%d", o.Source.File, o.Source.Line)
		}
	})
}

// FuzzPlaceInTemplate feeds placeInTemplate arbitrary templates and
// rendered output: it never panics, blanking keeps the template's length
// and lines, and every object keeps a line.
func FuzzPlaceInTemplate(f *testing.F) {
	for _, name := range []string{"deployment.yaml", "service.yaml", "range.yaml"} {
		src, err := os.ReadFile(filepath.Join("testdata", "templatelines", "templates", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, []byte("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {type: NodePort}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"))
	}
	f.Add([]byte("kind: {{ .k }}\n{{ if }}\nkind: Pod\n"), []byte("kind: Pod\napiVersion: v1\nmetadata: {name: p}\n"))
	f.Fuzz(func(t *testing.T, source, rendered []byte) {
		blank := blankActions(source)
		if len(blank) != len(source) || bytes.Count(blank, []byte("\n")) != bytes.Count(source, []byte("\n")) {
			t.Fatalf("blankActions(%q) = %q: length or lines changed", source, blank)
		}
		objs, _ := kube.Decode(t.Context(), "t.yaml", rendered, kube.Limits{MaxFileSize: 1 << 20})
		placeInTemplate(objs, source, "t.yaml")
		for _, o := range objs {
			if o.Source.Line < 1 || o.Line("spec", "template", "spec", "containers", "0") < 1 {
				t.Fatalf("%s at line %d", o.Ref, o.Source.Line)
			}
		}
	})
}

// FuzzKustomizationEntries feeds arbitrary kustomization files to what
// decides which found kustomizations are built: it never panics, and the
// local entries it returns are directories.
func FuzzKustomizationEntries(f *testing.F) {
	for _, s := range []string{
		"resources: [../base, deployment.yaml]\n",
		"resources:\n  - https://github.com/example/app//base?ref=v1\ncomponents: [.]\n",
		"bases: [..]\nresources: {a: b}\n", "resources: [", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		ks := newKustomizations(kube.Limits{MaxFileSize: 1 << 20})
		for _, d := range ks.of(dir).local {
			if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
				t.Fatalf("local entry %s is no directory", d)
			}
		}
		_ = ks.remoteIn(dir, map[string]bool{})
		_ = ks.roots([]string{dir})
	})
}
