package image_test

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func remoteWriteIndex(t *testing.T, ref string, idx v1.ImageIndex) error {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return err
	}
	return remote.WriteIndex(r, idx)
}
