package image_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/image/imagetest"
)

// platformImage is a one-layer image whose file names its architecture.
func platformImage(t *testing.T, arch string) v1.Image {
	t.Helper()
	img := imagetest.Image(t, v1.Config{}, imagetest.Step{CreatedBy: "ADD", Layer: imagetest.Layer(t, fstest.MapFS{"arch": file(arch)})})
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Architecture = arch
	out, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenSources(t *testing.T) {
	amd, arm := platformImage(t, "amd64"), platformImage(t, "arm64")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
	)
	ociDir := t.TempDir()
	lp, err := layout.Write(ociDir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "app.tar")
	tag, _ := name.NewTag("example.com/app:v1")
	if err := tarball.WriteToFile(archive, tag, amd); err != nil {
		t.Fatal(err)
	}
	rootfs := t.TempDir()
	if err := os.WriteFile(filepath.Join(rootfs, "arch"), []byte("rootfs"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("arch", filepath.Join(rootfs, "link")); err != nil {
		t.Fatal(err)
	}
	host := imagetest.Registry(t)
	if err := remoteWriteIndex(t, host+"/multi:v1", idx); err != nil {
		t.Fatal(err)
	}
	arm64 := &v1.Platform{OS: "linux", Architecture: "arm64"}
	amd64 := &v1.Platform{OS: "linux", Architecture: "amd64"}
	tests := []struct {
		ref      string
		opts     image.Options
		wantArch string
		wantErr  string
	}{
		{ref: "oci:" + ociDir + ":v1", opts: image.Options{Platform: arm64}, wantArch: "arm64"},
		{ref: "oci:" + ociDir, opts: image.Options{Platform: amd64}, wantArch: "amd64"},
		{ref: "oci:" + ociDir + ":v2", wantErr: `no manifest tagged "v2"`},
		{ref: "oci:" + ociDir, opts: image.Options{Platform: &v1.Platform{OS: "linux", Architecture: "s390x"}}, wantErr: "no image for platform linux/s390x"},
		{ref: "docker-archive:" + archive, wantArch: "amd64"},
		{ref: "docker-archive:" + archive + ":example.com/app:v1", wantArch: "amd64"},
		{ref: "dir:" + rootfs, wantArch: "rootfs"},
		{ref: host + "/multi:v1", opts: image.Options{Insecure: true, Platform: arm64}, wantArch: "arm64"},
		{ref: host + "/multi:v1", opts: image.Options{Insecure: true, Platform: amd64}, wantArch: "amd64"},
		{ref: host + "/missing:v1", opts: image.Options{Insecure: true}, wantErr: "fetch image"},
		{ref: "oci:" + filepath.Join(t.TempDir(), "nope"), wantErr: "open oci layout"},
		{ref: "docker-archive:/nonexistent.tar", wantErr: "open docker archive"},
		{ref: "dir:/nonexistent-rootfs", wantErr: "open rootfs"},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.ref, "/", "_"), func(t *testing.T) {
			src, err := image.ParseSource(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			img, err := image.Open(t.Context(), src, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, got := walkAll(t, img)
			if s := got["arch"]; len(s) != 1 || s[0].Content != tt.wantArch {
				t.Errorf("arch file = %+v, want %q", s, tt.wantArch)
			}
		})
	}
}
