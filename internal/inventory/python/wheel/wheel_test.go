package wheel

import (
	"os"
	"testing"

	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/inventorytest"
)

func py(name, version, purl string) inventory.Package {
	return inventory.Package{Ecosystem: "PyPI", Name: name, Version: version, Type: "pypi", PURL: purl}
}

func read(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExtract(t *testing.T) {
	inventorytest.Run(t, New(), []inventorytest.Case{
		{
			Name: "dist_info", Path: "usr/lib/python3.7/site-packages/setuptools-47.1.0.dist-info/METADATA",
			Content: read(t, "testdata/setuptools-47.1.0.METADATA"),
			Want:    []inventory.Package{py("setuptools", "47.1.0", "pkg:pypi/setuptools@47.1.0")},
		},
		{
			Name: "pip", Path: "usr/lib/python3.7/site-packages/pip-22.0.4.dist-info/METADATA",
			Content: read(t, "testdata/pip-22.0.4.METADATA"),
			Want:    []inventory.Package{py("pip", "22.0.4", "pkg:pypi/pip@22.0.4")},
		},
		{
			Name: "egg_info_file", Path: "usr/lib/python2.7/wsgiref.egg-info",
			Content: read(t, "testdata/wsgiref.egg-info"),
			Want:    []inventory.Package{py("wsgiref", "0.1.2", "pkg:pypi/wsgiref@0.1.2")},
		},
		{
			Name: "normalized_purl", Path: "x/Zope.Interface-5.0.dist-info/METADATA",
			Content: []byte("Metadata-Version: 2.1\nName: Zope.Interface\nVersion: 5.0\n\nbody: ignored\n"),
			Want:    []inventory.Package{py("Zope.Interface", "5.0", "pkg:pypi/zope-interface@5.0")},
		},
		{Name: "no_version", Path: "x/a-1.dist-info/METADATA", Content: []byte("Name: a\n"), WantErr: true},
	})
}

func TestRequired(t *testing.T) {
	for p, want := range map[string]bool{
		"site-packages/a-1.dist-info/METADATA": true,
		"site-packages/a-1.egg-info/PKG-INFO":  true,
		"site-packages/a-1.egg-info":           true,
		"site-packages/a-1.dist-info/RECORD":   false,
		"site-packages/METADATA":               false,
	} {
		if got := New().Required(p, inventorytest.Info(p, 0, 10)); got != want {
			t.Errorf("Required(%q) = %v, want %v", p, got, want)
		}
	}
}

func FuzzParseMetadata(f *testing.F) {
	f.Add(read(f, "testdata/pip-22.0.4.METADATA"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = New().Extract(t.Context(), inventorytest.Input("a-1.dist-info/METADATA", 0, b, 1<<20))
	})
}
