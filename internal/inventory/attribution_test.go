package inventory_test

import (
	"testing"
	"testing/fstest"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/image/imagetest"
	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/list"
)

func stanza(name, version string) string {
	return "Package: " + name + "\nStatus: install ok installed\nArchitecture: amd64\nVersion: " + version + "\n\n"
}

func TestLayerAttribution(t *testing.T) {
	status := func(s ...string) *fstest.MapFile {
		var b []byte
		for _, x := range s {
			b = append(b, x...)
		}
		return data(b, 0o644)
	}
	img, err := image.FromV1(image.Source{}, imagetest.Image(t, v1.Config{},
		imagetest.Step{CreatedBy: "ADD base", Layer: imagetest.Layer(t, fstest.MapFS{
			"var/lib/dpkg/status": status(stanza("bash", "5.2.15-2+b8"), stanza("libc6", "2.36-9+deb12u4"), stanza("gone", "1")),
		})},
		imagetest.Step{CreatedBy: "RUN apt-get install tar && apt-get upgrade libc6 && apt-get remove gone", Layer: imagetest.Layer(t, fstest.MapFS{
			"var/lib/dpkg/status": status(stanza("bash", "5.2.15-2+b8"), stanza("libc6", "2.36-9+deb12u14"), stanza("tar", "1.34+dfsg-1.2+deb12u1")),
		})},
		imagetest.Step{CreatedBy: "RUN apt-get install gzip", Layer: imagetest.Layer(t, fstest.MapFS{
			"var/lib/dpkg/status": status(stanza("bash", "5.2.15-2+b8"), stanza("libc6", "2.36-9+deb12u14"), stanza("tar", "1.34+dfsg-1.2+deb12u1"), stanza("gzip", "1.12-1")),
		})},
	))
	if err != nil {
		t.Fatal(err)
	}
	res, err := inventory.Scan(t.Context(), img, list.Default(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, p := range res.Packages {
		got[p.Name+"@"+p.Version] = p.Layer.Index
	}
	want := map[string]int{
		"bash@5.2.15-2+b8":          0,
		"libc6@2.36-9+deb12u14":     1,
		"tar@1.34+dfsg-1.2+deb12u1": 1,
		"gzip@1.12-1":               2,
	}
	if len(got) != len(want) {
		t.Errorf("packages = %v, want %v", got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: layer %d (present %v), want %d", k, g, ok, v)
		}
	}
}
