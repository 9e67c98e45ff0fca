package image_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/image/imagetest"
)

// rawImage builds an image from layers without validation, so broken
// layers can be tested.
func rawImage(t *testing.T, layers ...v1.Layer) *image.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	out, err := image.FromV1(image.Source{}, img)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rawLayer is a layer of exactly b, decompressed on read when mt is a
// compressed type (static.NewLayer never decompresses).
func rawLayer(b []byte, mt types.MediaType) v1.Layer { return &testLayer{b: b, mt: mt} }

type testLayer struct {
	b  []byte
	mt types.MediaType
}

func (l *testLayer) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(l.b))
	return h, err
}
func (l *testLayer) DiffID() (v1.Hash, error)            { return l.Digest() }
func (l *testLayer) Size() (int64, error)                { return int64(len(l.b)), nil }
func (l *testLayer) MediaType() (types.MediaType, error) { return l.mt, nil }
func (l *testLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.b)), nil
}
func (l *testLayer) Uncompressed() (io.ReadCloser, error) {
	if l.mt != types.DockerLayer {
		return io.NopCloser(bytes.NewReader(l.b)), nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(l.b))
	if err != nil {
		return nil, err
	}
	return zr, nil
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestHostileLayers(t *testing.T) {
	good := imagetest.Tar(t, fstest.MapFS{"etc/os-release": file("ID=alpine\n"), "bin/app": file(strings.Repeat("x", 4096))})
	traversal := imagetest.Tar(t, fstest.MapFS{"../../etc/passwd": file("root"), "/abs/file": file("ok"), "fine": file("ok")})
	tests := []struct {
		name        string
		layer       v1.Layer
		wantPartial bool
		wantErrPath string // substring of the FileError text
		wantPaths   []string
	}{
		{name: "bad_gzip", layer: rawLayer([]byte("\x1f\x8b\x08\x00garbage"), types.DockerLayer), wantPartial: true, wantErrPath: "read layer"},
		{name: "bad_gzip_header", layer: rawLayer([]byte("\x1f\x8bXX"), types.DockerLayer), wantPartial: true, wantErrPath: "open layer"},
		{name: "not_gzip_garbage", layer: rawLayer([]byte("plain garbage, no tar"), types.DockerUncompressedLayer), wantPartial: true, wantErrPath: "read layer"},
		{name: "truncated_tar", layer: rawLayer(gz(t, good[:600]), types.DockerLayer), wantPartial: true, wantErrPath: "after "},
		{name: "truncated_gzip", layer: rawLayer(gz(t, good)[:80], types.DockerLayer), wantPartial: true, wantErrPath: "read layer"},
		{name: "path_traversal", layer: rawLayer(gz(t, traversal), types.DockerLayer), wantErrPath: "../../etc/passwd: unsafe path", wantPaths: []string{"abs/file", "fine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := rawImage(t, tt.layer)
			view, err := img.Walk(t.Context(), func(_ context.Context, f *image.File, r io.Reader) error {
				if r != nil {
					_, err := io.Copy(io.Discard, r)
					_ = err // a broken stream is reported by the walk itself
				}
				return nil
			})
			if err != nil {
				t.Fatalf("Walk returned a fatal error for bad content: %v", err)
			}
			if view.Partial != tt.wantPartial {
				t.Errorf("Partial = %v, want %v (errors %v)", view.Partial, tt.wantPartial, view.Errors)
			}
			var msgs []string
			for _, e := range view.Errors {
				msgs = append(msgs, e.Error())
				if !strings.Contains(e.Error(), img.Layers[0].Digest) {
					t.Errorf("error %q does not name layer %s", e, img.Layers[0].Digest)
				}
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tt.wantErrPath) {
				t.Errorf("errors %q do not mention %q", msgs, tt.wantErrPath)
			}
			if tt.wantPaths != nil {
				if got := view.Paths(); strings.Join(got, ",") != strings.Join(tt.wantPaths, ",") {
					t.Errorf("paths = %v, want %v", got, tt.wantPaths)
				}
			}
		})
	}
}

func TestMissingBlob(t *testing.T) {
	v1img := layered(t)
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(v1img); err != nil {
		t.Fatal(err)
	}
	layers, _ := v1img.Layers()
	d, _ := layers[1].Digest()
	if err := os.Remove(filepath.Join(dir, "blobs", d.Algorithm, d.Hex)); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(t.Context(), image.Source{Kind: image.KindOCILayout, Path: dir}, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	view, err := img.Walk(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !view.Partial || len(view.Errors) != 1 || !strings.Contains(view.Errors[0].Error(), d.String()) {
		t.Errorf("partial=%v errors=%v; want one error naming %s", view.Partial, view.Errors, d)
	}
	if !errors.Is(view.Errors[0], os.ErrNotExist) {
		t.Errorf("error %v does not wrap os.ErrNotExist", view.Errors[0])
	}
}

func TestCancelled(t *testing.T) {
	img, err := image.FromV1(image.Source{}, layered(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	view, err := img.Walk(ctx, nil)
	if !errors.Is(err, context.Canceled) || view == nil || !view.Partial {
		t.Errorf("Walk(cancelled) = %v, %v", view, err)
	}
}

func TestVisitorError(t *testing.T) {
	img, err := image.FromV1(image.Source{}, layered(t))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	_, err = img.Walk(t.Context(), func(context.Context, *image.File, io.Reader) error { return boom })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "sha256:") {
		t.Errorf("Walk error = %v, want boom naming the layer", err)
	}
}

func FuzzLayer(f *testing.F) {
	seed := imagetest.Tar(f, fstest.MapFS{"a/b": file("x"), "a/.wh.c": file(""), "d/.wh..wh..opq": file(""), "l": symlink("../..")})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(seed)
	zw.Close()
	f.Add(buf.Bytes())
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		mt := types.DockerUncompressedLayer
		if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
			mt = types.DockerLayer
		}
		img, err := mutate.AppendLayers(empty.Image, rawLayer(b, mt))
		if err != nil {
			t.Skip()
		}
		pi, err := image.FromV1(image.Source{}, img)
		if err != nil {
			t.Skip()
		}
		view, err := pi.Walk(t.Context(), func(_ context.Context, f *image.File, r io.Reader) error {
			if strings.HasPrefix(f.Path, "/") || strings.Contains("/"+f.Path+"/", "/../") {
				t.Fatalf("unsafe path reached the visitor: %q", f.Path)
			}
			if r != nil {
				io.Copy(io.Discard, r)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range view.Paths() {
			_, _, _ = view.Resolve(p)
		}
		_ = tar.ErrHeader
	})
}
