package render

import (
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
