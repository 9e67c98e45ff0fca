package image_test

import (
	"context"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/image/imagetest"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }
func dir() *fstest.MapFile          { return &fstest.MapFile{Mode: fs.ModeDir | 0o755} }
func symlink(target string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink | 0o777}
}

// layered builds the image most walk tests use:
//
//	0  ADD rootfs       etc/keep, etc/secret.txt, app/a, app/b, bin/sh, lib -> usr/lib
//	-  ENV              (no layer)
//	1  RUN rm + rebuild etc/.wh.secret.txt, app/.wh..wh..opq, app/c
//	2  COPY keep        etc/keep (new version)
func layered(t testing.TB) v1.Image {
	t.Helper()
	return imagetest.Image(t, v1.Config{
		User:         "app",
		Env:          []string{"PATH=/usr/bin"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "22/tcp": {}},
		Labels:       map[string]string{"org.opencontainers.image.title": "layered"},
	},
		imagetest.Step{CreatedBy: "ADD rootfs.tar /", Layer: imagetest.Layer(t, fstest.MapFS{
			"etc":            dir(),
			"etc/keep":       file("v1"),
			"etc/secret.txt": file("AKIA-not-a-real-key"),
			"app":            dir(),
			"app/a":          file("a"),
			"app/b":          file("b"),
			"usr/lib/x.so":   file("x"),
			"lib":            symlink("usr/lib"),
		})},
		imagetest.Step{CreatedBy: "ENV PATH=/usr/bin"},
		imagetest.Step{CreatedBy: "/bin/sh -c rm /etc/secret.txt && rm -rf /app && mkdir /app && touch /app/c", Layer: imagetest.Layer(t, fstest.MapFS{
			"etc/.wh.secret.txt": file(""),
			"app":                dir(),
			"app/.wh..wh..opq":   file(""),
			"app/c":              file("c"),
		})},
		imagetest.Step{CreatedBy: "COPY keep /etc/keep", Layer: imagetest.Layer(t, fstest.MapFS{
			"etc/keep": file("v2"),
		})},
	)
}

type seen struct {
	Layer    int
	Final    bool
	HiddenBy int
	Deleted  bool
	Content  string
}

func walkAll(t *testing.T, img *image.Image) (*image.View, map[string][]seen) {
	t.Helper()
	got := map[string][]seen{}
	v, err := img.Walk(t.Context(), func(_ context.Context, f *image.File, r io.Reader) error {
		s := seen{Layer: f.Layer.Index, Final: f.Final, HiddenBy: f.HiddenBy, Deleted: f.Deleted}
		if r != nil {
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			s.Content = string(b)
		}
		got[f.Path] = append(got[f.Path], s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, got
}

func TestWalkRegistry(t *testing.T) {
	ref := imagetest.Push(t, imagetest.Registry(t)+"/test/layered:v1", layered(t))
	src, err := image.ParseSource(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(t.Context(), src, image.Options{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	view, got := walkAll(t, img)
	if view.Partial || len(view.Errors) > 0 {
		t.Fatalf("view partial=%v errors=%v", view.Partial, view.Errors)
	}
	want := map[string][]seen{
		"etc":            {{Layer: 0, Final: true, HiddenBy: -1}},
		"etc/keep":       {{Layer: 2, Final: true, HiddenBy: -1, Content: "v2"}, {Layer: 0, HiddenBy: 2, Content: "v1"}},
		"etc/secret.txt": {{Layer: 0, HiddenBy: 1, Deleted: true, Content: "AKIA-not-a-real-key"}},
		"app":            {{Layer: 1, Final: true, HiddenBy: -1}, {Layer: 0, HiddenBy: 1}},
		"app/a":          {{Layer: 0, HiddenBy: 1, Deleted: true, Content: "a"}},
		"app/b":          {{Layer: 0, HiddenBy: 1, Deleted: true, Content: "b"}},
		"app/c":          {{Layer: 1, Final: true, HiddenBy: -1, Content: "c"}},
		"lib":            {{Layer: 0, Final: true, HiddenBy: -1}},
		"usr":            {{Layer: 0, Final: true, HiddenBy: -1}},
		"usr/lib":        {{Layer: 0, Final: true, HiddenBy: -1}},
		"usr/lib/x.so":   {{Layer: 0, Final: true, HiddenBy: -1, Content: "x"}},
	}
	// imagetest writes no parent directories for "usr/lib/x.so".
	delete(want, "usr")
	delete(want, "usr/lib")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("visited (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"app", "app/c", "etc", "etc/keep", "lib", "usr/lib/x.so"}, view.Paths()); diff != "" {
		t.Errorf("final paths (-want +got):\n%s", diff)
	}
	if p, n, err := view.Resolve("/lib/x.so"); err != nil || p != "usr/lib/x.so" || n.Layer != 0 {
		t.Errorf("Resolve(/lib/x.so) = %q, %+v, %v", p, n, err)
	}

	wantLayers := []string{"ADD rootfs.tar /", "/bin/sh -c rm /etc/secret.txt && rm -rf /app && mkdir /app && touch /app/c", "COPY keep /etc/keep"}
	for i, l := range img.Layers {
		if l.Index != i || l.CreatedBy != wantLayers[i] || !strings.HasPrefix(l.Digest, "sha256:") {
			t.Errorf("layer %d = %+v", i, l)
		}
	}
	md := img.Metadata
	if md.User != "app" || md.OS != "linux" || len(md.History) != 4 || md.Labels["org.opencontainers.image.title"] != "layered" {
		t.Errorf("metadata = %+v", md)
	}
	if diff := cmp.Diff([]string{"22/tcp", "8080/tcp"}, md.ExposedPorts); diff != "" {
		t.Errorf("exposed ports (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(md.Digest, "sha256:") {
		t.Errorf("digest %q", md.Digest)
	}
}

func TestResolveLoop(t *testing.T) {
	img, err := image.FromV1(image.Source{}, imagetest.Image(t, v1.Config{},
		imagetest.Step{CreatedBy: "loop", Layer: imagetest.Layer(t, fstest.MapFS{
			"a":          symlink("b"),
			"b":          symlink("/a"),
			"etc/os":     symlink("../../../../usr/lib/os"),
			"usr/lib/os": file("ID=x"),
		})}))
	if err != nil {
		t.Fatal(err)
	}
	view, _ := walkAll(t, img)
	if _, _, err := view.Resolve("a/x"); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("Resolve loop: %v", err)
	}
	if p, _, err := view.Resolve("etc/os"); err != nil || p != "usr/lib/os" {
		t.Errorf("Resolve(etc/os) = %q, %v; want usr/lib/os (.. stops at the root)", p, err)
	}
}
