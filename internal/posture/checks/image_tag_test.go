package checks

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// TestImageTagFloating checks registries.floatingTags: a configured tag is
// as unpinned as latest, matched exactly (tags are case-sensitive), and a
// digest still pins it. The workload is a SandboxTemplate, whose pod
// template is at spec.podTemplate.
func TestImageTagFloating(t *testing.T) {
	floating := config.Registries{FloatingTags: []string{"dev", "nightly"}}
	for _, tc := range []struct {
		image      string
		registries config.Registries
		want       string // problem evidence; "" for none
	}{
		{"gcr.io/p/agent:dev", floating, "floating-tag"},
		{"gcr.io/p/agent:nightly", floating, "floating-tag"},
		{"gcr.io/p/agent:dev", config.Registries{}, "no-digest"},
		{"gcr.io/p/agent:Dev", floating, "no-digest"},
		{"gcr.io/p/agent:dev-1.2", floating, "no-digest"},
		{"registry.example.com:5000/agent:dev", floating, "floating-tag"},
		{"gcr.io/p/agent:dev@sha256:" + strings.Repeat("a", 64), floating, ""},
		{"gcr.io/p/agent:latest", floating, "latest"},
	} {
		t.Run(tc.image, func(t *testing.T) {
			doc := "apiVersion: extensions.agents.x-k8s.io/v1beta1\nkind: SandboxTemplate\nmetadata: {name: t}\nspec:\n  podTemplate:\n    spec:\n      containers:\n      - name: agent\n        image: " + tc.image + "\n"
			objs, err := kube.Decode(t.Context(), "t.yaml", []byte(doc), kube.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			w := kube.WorkloadOf(objs[0])
			rs := imageTag(&posture.Input{Workload: w, Object: w.Object, Options: &posture.Options{Registries: tc.registries}}, true)
			var got string
			if len(rs) > 0 {
				got = rs[0].Evidence[0].Value
				if diff := cmp.Diff([]string{"spec", "podTemplate", "spec", "containers", "0", "image"}, rs[0].Path); diff != "" {
					t.Errorf("path (-want +got):\n%s", diff)
				}
				if line := w.Object.Line(rs[0].Path...); line != 9 {
					t.Errorf("line %d, want 9", line)
				}
			}
			if got != tc.want {
				t.Errorf("problem %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidDigest(t *testing.T) {
	hex64 := strings.Repeat("a", 64)
	for _, tc := range []struct {
		digest string
		want   bool
	}{
		{"sha256:" + hex64, true},
		{"sha256:" + strings.Repeat("0", 64), true},
		{"sha512:" + hex64 + hex64, true},
		{"blake3:" + hex64, true},
		{"custom-algorithm:aaaaaaaa", true}, // unregistered: the generic grammar only
		{"multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", true},
		{"sha256:abc", false},
		{"sha256:" + strings.ToUpper(hex64), false},
		{"sha512:" + hex64, false},
		{"blake3:" + hex64 + "a", false},
		{hex64, false},
		{"SHA256:" + hex64, false},
		{"sha256:", false},
		{":" + hex64, false},
		{"sha256:" + hex64 + "\n", false},
	} {
		t.Run(tc.digest, func(t *testing.T) {
			if got := validDigest(tc.digest); got != tc.want {
				t.Errorf("validDigest(%q) = %v, want %v", tc.digest, got, tc.want)
			}
		})
	}
}

// FuzzValidDigest checks that validDigest never panics and that what it
// accepts has the algorithm:encoded shape parseImage relies on.
func FuzzValidDigest(f *testing.F) {
	for _, s := range []string{"sha256:" + strings.Repeat("a", 64), "sha256:abc", "a:b", ":", "", "sha512:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, d string) {
		if !validDigest(d) {
			return
		}
		alg, enc, ok := strings.Cut(d, ":")
		if !ok || alg == "" || enc == "" || strings.ContainsAny(d, "@/ \n") {
			t.Errorf("validDigest(%q) = true for a malformed digest", d)
		}
	})
}
