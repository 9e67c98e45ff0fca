package kubelab

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestRegistrySamples(t *testing.T) {
	r, err := StartRegistry("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	samples, err := r.PushSamples(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 2 {
		t.Fatalf("%d samples", len(samples))
	}
	for _, s := range samples {
		ref, err := name.ParseReference(s.Ref, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(ref)
		if err != nil {
			t.Fatalf("pull %s: %v", s.Ref, err)
		}
		if err := validate.Image(img); err != nil {
			t.Errorf("%s invalid: %v", s.Ref, err)
		}
	}
	if _, err := StartRegistry("0.0.0.0:0"); err == nil {
		t.Error("lab registry accepted a non-loopback address")
	}
}
