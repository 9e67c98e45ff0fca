// Package imagetest builds real images for tests: tar layers from
// fstest.MapFS values, images with history and config, and an in-process
// registry to serve them from.
package imagetest

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// Tar returns an uncompressed tar of fsys, entries sorted by name.
// Mode fs.ModeDir makes a directory, fs.ModeSymlink a symlink whose
// target is Data; names are written as given (so "../x" and "/x" can be
// tested).
func Tar(t testing.TB, fsys fstest.MapFS) []byte {
	t.Helper()
	names := make([]string, 0, len(fsys))
	for n := range fsys {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		f := fsys[n]
		hdr := &tar.Header{Name: n, Mode: tarMode(f.Mode), ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		switch {
		case f.Mode&fs.ModeDir != 0:
			hdr.Typeflag = tar.TypeDir
			if hdr.Mode == 0 {
				hdr.Mode = 0o755
			}
		case f.Mode&fs.ModeSymlink != 0:
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = string(f.Data)
			hdr.Mode = 0o777
		default:
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(f.Data))
			if hdr.Mode == 0 {
				hdr.Mode = 0o644
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("tar %s: %v", n, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				t.Fatalf("tar %s: %v", n, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarMode returns the tar header mode of m: permissions plus the setuid,
// setgid and sticky bits (fs.ModeSetuid makes a 04000 file).
func tarMode(m fs.FileMode) int64 {
	v := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}

// Layer returns a gzip-compressed layer holding the tar of fsys.
func Layer(t testing.TB, fsys fstest.MapFS) v1.Layer {
	t.Helper()
	return TarLayer(t, Tar(t, fsys))
}

// TarLayer returns a gzip-compressed layer of an uncompressed tar.
func TarLayer(t testing.TB, raw []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Step is one Dockerfile instruction: a layer, or none (Layer nil) for
// instructions like ENV that only change the config.
type Step struct {
	CreatedBy string
	Layer     v1.Layer
}

// Image builds a linux/amd64 image from steps with cfg as its config and
// checks it with validate.Image.
func Image(t testing.TB, cfg v1.Config, steps ...Step) v1.Image {
	t.Helper()
	img := empty.Image
	for _, s := range steps {
		h := v1.History{CreatedBy: s.CreatedBy, Created: v1.Time{Time: time.Unix(1700000000, 0)}}
		var err error
		if s.Layer == nil {
			h.EmptyLayer = true
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			cf = cf.DeepCopy()
			cf.History = append(cf.History, h)
			img, err = mutate.ConfigFile(img, cf)
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: s.Layer, History: h})
		if err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config = cfg
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	// Round-trip through an OCI layout so the image is a real serialized
	// artifact (mutate's in-memory manifest differs from its own JSON in
	// empty annotation maps, which validate.Image rejects).
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	out, err := lp.Image(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(out); err != nil {
		t.Fatalf("validate image: %v", err)
	}
	return out
}

// Registry starts an in-process registry (ggcr pkg/registry) and returns
// its host:port; it stops when the test ends.
func Registry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// Push writes img to ref (plain HTTP) and returns ref.
func Push(t testing.TB, ref string, img v1.Image) string {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}
