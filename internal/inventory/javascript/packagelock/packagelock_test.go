package packagelock

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/inventorytest"
	"github.com/palisade-sec/palisade/internal/inventory/javascript"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGolden runs lockfiles written by npm 6 (v1) and npm 11 (v2, v3) for
// a project pinning lodash 4.17.20, minimist 1.2.5 and @babel/traverse
// 7.22.5 (all with published advisories).
func TestGolden(t *testing.T) {
	var all [][]string
	for _, v := range []string{"v1", "v2", "v3"} {
		t.Run(v, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", v, "package-lock.json"))
			if err != nil {
				t.Fatal(err)
			}
			pkgs, err := New().Extract(t.Context(), inventorytest.Input("app/package-lock.json", 0, b, 1<<20))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pkgs {
				if p.Ecosystem != "npm" || p.Type != "npm" {
					t.Errorf("%s: ecosystem %q type %q", p.Name, p.Ecosystem, p.Type)
				}
				got = append(got, p.PURL)
			}
			slices.Sort(got)
			all = append(all, got)
			golden := filepath.Join("testdata", v+".golden")
			if *update {
				out, _ := json.MarshalIndent(got, "", "  ")
				if err := os.WriteFile(golden, append(out, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			wb, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			var want []string
			if err := json.Unmarshal(wb, &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("purls (-want +got):\n%s", diff)
			}
			for _, must := range []string{"pkg:npm/lodash@4.17.20", "pkg:npm/minimist@1.2.5", "pkg:npm/%40babel/traverse@7.22.5"} {
				if !slices.Contains(got, must) {
					t.Errorf("missing %s", must)
				}
			}
		})
	}
	if len(all) == 3 && !slices.Equal(all[0], all[2]) {
		t.Errorf("v1 and v3 lockfiles of the same project disagree:\n%s", cmp.Diff(all[0], all[2]))
	}
}

// TestNoOrphanGoldens fails on golden files without a lockfile.
func TestNoOrphanGoldens(t *testing.T) {
	goldens, err := filepath.Glob("testdata/*.golden")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goldens {
		lock := filepath.Join(strings.TrimSuffix(g, ".golden"), "package-lock.json")
		if _, err := os.Stat(lock); err != nil {
			t.Errorf("orphaned golden %s: %v", g, err)
		}
	}
}

func TestExtract(t *testing.T) {
	v3, err := os.ReadFile("testdata/v3/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	pkgs, _ := New().Extract(t.Context(), inventorytest.Input("package-lock.json", 0, v3, 1<<20))
	inventorytest.Run(t, New(), []inventorytest.Case{
		{Name: "v3", Path: "srv/app/package-lock.json", Content: v3, Want: pkgs},
		{Name: "alias_and_git", Path: "package-lock.json", Content: []byte(`{"lockfileVersion":3,"packages":{
			"": {"name":"x"},
			"node_modules/old": {"name":"lodash","version":"4.17.11"},
			"node_modules/aliased": {"version":"npm:@scope/real@2.0.0"},
			"node_modules/gitdep": {"version":"git+ssh://git@github.com/a/b.git#abc"},
			"node_modules/linked": {"link":true,"resolved":"packages/linked"},
			"packages/linked": {"name":"linked","version":"1.0.0"}}}`),
			Want: []inventory.Package{pkgOf("@scope/real", "2.0.0"), pkgOf("lodash", "4.17.11")}},
		{Name: "not_json", Path: "package-lock.json", Content: []byte("{"), WantErr: true},
	})
}

func pkgOf(name, version string) inventory.Package {
	return javascript.Package(name, version)
}

func TestRequired(t *testing.T) {
	for p, want := range map[string]bool{
		"app/package-lock.json":                true,
		"npm-shrinkwrap.json":                  true,
		"app/node_modules/x/package-lock.json": false,
		"app/node_modules/.package-lock.json":  false,
		"app/package.json":                     false,
	} {
		if got := New().Required(p, inventorytest.Info(p, 0, 10)); got != want {
			t.Errorf("Required(%q) = %v, want %v", p, got, want)
		}
	}
}

func FuzzExtract(f *testing.F) {
	for _, v := range []string{"v1", "v3"} {
		if b, err := os.ReadFile(filepath.Join("testdata", v, "package-lock.json")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = New().Extract(t.Context(), inventorytest.Input("package-lock.json", 0, b, 1<<20))
	})
}
