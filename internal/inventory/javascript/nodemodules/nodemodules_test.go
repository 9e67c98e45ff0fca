package nodemodules

import (
	"os"
	"testing"

	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/inventorytest"
	"github.com/palisade-sec/palisade/internal/inventory/javascript"
)

func TestExtract(t *testing.T) {
	corepack, err := os.ReadFile("testdata/corepack-package.json")
	if err != nil {
		t.Fatal(err)
	}
	inventorytest.Run(t, New(), []inventorytest.Case{
		{
			Name: "installed", Path: "usr/lib/node_modules/corepack/package.json", Content: corepack,
			Want: []inventory.Package{javascript.Package("corepack", "0.34.6")},
		},
		{
			Name: "scoped", Path: "app/node_modules/a/node_modules/@babel/traverse/package.json",
			Content: []byte(`{"name":"@babel/traverse","version":"7.22.5","main":"lib/index.js"}`),
			Want:    []inventory.Package{javascript.Package("@babel/traverse", "7.22.5")},
		},
		{Name: "no_version", Path: "node_modules/x/package.json", Content: []byte(`{"name":"x"}`)},
		{Name: "broken", Path: "node_modules/x/package.json", Content: []byte(`{"name":`), WantErr: true},
	})
	if p := javascript.Package("@babel/traverse", "7.22.5").PURL; p != "pkg:npm/%40babel/traverse@7.22.5" {
		t.Errorf("purl = %q", p)
	}
}

func TestRequired(t *testing.T) {
	for p, want := range map[string]bool{
		"node_modules/a/package.json":                  true,
		"x/node_modules/@s/b/package.json":             true,
		"x/node_modules/a/lib/package.json":            false,
		"x/node_modules/@s/package.json":               false,
		"x/package.json":                               false,
		"x/node_modules/a/node_modules/b/package.json": true,
	} {
		if got := New().Required(p, inventorytest.Info(p, 0, 10)); got != want {
			t.Errorf("Required(%q) = %v, want %v", p, got, want)
		}
	}
}

func FuzzExtract(f *testing.F) {
	f.Add([]byte(`{"name":"a","version":"1.0.0"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = New().Extract(t.Context(), inventorytest.Input("node_modules/a/package.json", 0, b, 1<<20))
	})
}
