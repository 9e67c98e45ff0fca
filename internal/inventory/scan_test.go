package inventory_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/image/imagetest"
	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/inventorytest"
	"github.com/palisade-sec/palisade/internal/inventory/list"
)

func read(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func data(b []byte, mode fs.FileMode) *fstest.MapFile { return &fstest.MapFile{Data: b, Mode: mode} }

// appImage is a Debian 12 image with a Go service, an npm app and a jar
// that a later layer deletes.
func appImage(t *testing.T) v1.Image {
	t.Helper()
	return imagetest.Image(t, v1.Config{User: "10001"},
		imagetest.Step{CreatedBy: "ADD debian-rootfs.tar.xz /", Layer: imagetest.Layer(t, fstest.MapFS{
			"etc/os-release":      {Data: []byte("../usr/lib/os-release"), Mode: fs.ModeSymlink | 0o777},
			"usr/lib/os-release":  data(read(t, "testdata/debian12-os-release"), 0o644),
			"var/lib/dpkg/status": data(read(t, "testdata/dpkg-status"), 0o644),
		})},
		imagetest.Step{CreatedBy: "CMD [\"bash\"]"},
		imagetest.Step{CreatedBy: "COPY . /srv", Layer: imagetest.Layer(t, fstest.MapFS{
			"usr/local/bin/vulnapp":                          data(inventorytest.BuildVulnerableGo(t), 0o755),
			"srv/app/package-lock.json":                      data(read(t, "testdata/package-lock.json"), 0o644),
			"srv/app/node_modules/lodash/package.json":       data([]byte(`{"name":"lodash","version":"4.17.20"}`), 0o644),
			"opt/lib/plexus-component-annotations-2.1.1.jar": data(read(t, "testdata/plexus-component-annotations-2.1.1.jar"), 0o644),
			"srv/app/node_modules/broken/package.json":       data([]byte(`{"name":`), 0o644),
		})},
		imagetest.Step{CreatedBy: "RUN rm -rf /opt/lib", Layer: imagetest.Layer(t, fstest.MapFS{
			"opt/.wh.lib": data(nil, 0o644),
		})},
	)
}

func TestScanRegistryImage(t *testing.T) {
	ref := imagetest.Push(t, imagetest.Registry(t)+"/app:v1", appImage(t))
	src, err := image.ParseSource(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(t.Context(), src, image.Options{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := inventory.Scan(t.Context(), img, list.Default(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Partial || len(res.LayerErrors) > 0 {
		t.Fatalf("partial=%v layer errors=%v", res.Partial, res.LayerErrors)
	}
	if res.OS == nil || res.OS.Ecosystem != "Debian:12" || res.OS.Path != "usr/lib/os-release" {
		t.Fatalf("OS = %+v, want Debian:12 from usr/lib/os-release", res.OS)
	}
	find := func(name, version string) *inventory.Package {
		for i, p := range res.Packages {
			if p.Name == name && (version == "" || p.Version == version) {
				return &res.Packages[i]
			}
		}
		return nil
	}
	libc := find("libc6", "2.36-9+deb12u14")
	if libc == nil || libc.Ecosystem != "Debian:12" || libc.SourceName != "glibc" ||
		libc.PURL != "pkg:deb/debian/libc6@2.36-9+deb12u14?arch=amd64&distro=debian-12" ||
		libc.Layer.Index != 0 || libc.Layer.CreatedBy != "ADD debian-rootfs.tar.xz /" ||
		!slices.Equal(libc.Locations, []string{"var/lib/dpkg/status"}) || libc.Extractor != "os/dpkg" {
		t.Errorf("libc6 = %+v", libc)
	}
	text := find("golang.org/x/text", "0.3.7")
	if text == nil || text.Ecosystem != "Go" || text.Layer.Index != 1 || text.Layer.CreatedBy != "COPY . /srv" ||
		!slices.Equal(text.Locations, []string{"usr/local/bin/vulnapp"}) {
		t.Errorf("golang.org/x/text = %+v", text)
	}
	if find("stdlib", "") == nil {
		t.Error("no stdlib package for the Go toolchain")
	}
	if l := find("lodash", "4.17.20"); l == nil || l.PURL != "pkg:npm/lodash@4.17.20" {
		t.Errorf("lodash = %+v", l)
	}
	if p := find("@babel/traverse", "7.22.5"); p == nil {
		t.Error("no @babel/traverse from the lockfile")
	}
	if p := find("org.codehaus.plexus:plexus-component-annotations", ""); p != nil {
		t.Errorf("jar deleted by a later layer was inventoried: %+v", p)
	}
	if len(res.FileErrors) != 1 || !strings.Contains(res.FileErrors[0].Error(), "srv/app/node_modules/broken/package.json: javascript/nodemodules") {
		t.Errorf("file errors = %v, want one for the broken package.json", res.FileErrors)
	}
	if !slices.IsSortedFunc(res.Packages, func(a, b inventory.Package) int { return strings.Compare(a.Ecosystem, b.Ecosystem) }) {
		t.Error("packages not sorted by ecosystem")
	}
}

func TestScanRootfsAlpine(t *testing.T) {
	root := t.TempDir()
	for p, b := range map[string][]byte{
		"etc/os-release":       read(t, "testdata/alpine3.11-os-release"),
		"lib/apk/db/installed": read(t, "testdata/apk-installed"),
	} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := image.Open(t.Context(), image.Source{Kind: image.KindDir, Path: root}, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := inventory.Scan(t.Context(), img, list.Default(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.OS == nil || res.OS.Ecosystem != "Alpine:v3.11" {
		t.Fatalf("OS = %+v", res.OS)
	}
	var got []string
	for _, p := range res.Packages {
		got = append(got, p.Ecosystem+" "+p.PURL+" src="+p.SourceName)
	}
	want := []string{
		"Alpine:v3.11 pkg:apk/alpine/busybox@1.31.1-r9?arch=x86_64&distro=3.11.6 src=busybox",
		"Alpine:v3.11 pkg:apk/alpine/libcrypto1.1@1.1.1g-r0?arch=x86_64&distro=3.11.6 src=openssl",
		"Alpine:v3.11 pkg:apk/alpine/libssl1.1@1.1.1g-r0?arch=x86_64&distro=3.11.6 src=openssl",
		"Alpine:v3.11 pkg:apk/alpine/musl@1.1.24-r2?arch=x86_64&distro=3.11.6 src=musl",
		"Alpine:v3.11 pkg:apk/alpine/ssl_client@1.31.1-r9?arch=x86_64&distro=3.11.6 src=busybox",
	}
	if !slices.Equal(got, want) {
		t.Errorf("packages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestScanSizeCap(t *testing.T) {
	img, err := image.FromV1(image.Source{}, imagetest.Image(t, v1.Config{},
		imagetest.Step{CreatedBy: "ADD", Layer: imagetest.Layer(t, fstest.MapFS{
			"var/lib/dpkg/status": data(read(t, "testdata/dpkg-status"), 0o644),
		})}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := inventory.Scan(t.Context(), img, list.Default(), inventory.Options{MaxFileSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 0 || len(res.FileErrors) != 1 || !strings.Contains(res.FileErrors[0].Error(), "exceeds size cap") {
		t.Errorf("packages=%d errors=%v; want none and one size-cap error", len(res.Packages), res.FileErrors)
	}
}

func TestScanPartial(t *testing.T) {
	v1img := appImage(t)
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(v1img); err != nil {
		t.Fatal(err)
	}
	layers, _ := v1img.Layers()
	d, _ := layers[2].Digest() // the layer that deletes /opt/lib
	if err := os.Remove(filepath.Join(dir, "blobs", d.Algorithm, d.Hex)); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(t.Context(), image.Source{Kind: image.KindOCILayout, Path: dir}, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := inventory.Scan(t.Context(), img, list.Default(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Partial || len(res.LayerErrors) != 1 || !strings.Contains(res.LayerErrors[0].Error(), d.String()) {
		t.Errorf("partial=%v layer errors=%v; want partial with one error naming %s", res.Partial, res.LayerErrors, d)
	}
	if len(res.Packages) == 0 {
		t.Error("a partial scan dropped the packages it could read")
	}
}
