package archive

import (
	"archive/zip"
	"bytes"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/inventorytest"
)

// zipOf builds a zip archive of name → content, in order.
func zipOf(t testing.TB, files ...[2][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(string(f[0]))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func file(name string, b []byte) [2][]byte { return [2][]byte{[]byte(name), b} }

func read(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExtract(t *testing.T) {
	plexus := read(t, "testdata/plexus-component-annotations-2.1.1.jar")
	inject := read(t, "testdata/atinject-jsr330-api-1.0.jar")
	war := zipOf(t,
		file("WEB-INF/web.xml", []byte("<web-app/>")),
		file("WEB-INF/lib/plexus-component-annotations-2.1.1.jar", plexus),
		file("WEB-INF/lib/atinject-jsr330-api-1.0.jar", inject),
	)
	ear := zipOf(t, file("app.war", war))
	inventorytest.Run(t, New(), []inventorytest.Case{
		{
			Name: "pom_properties", Path: "opt/lib/plexus-component-annotations-2.1.1.jar", Content: plexus, WantLocations: true,
			Want: []inventory.Package{withLoc(mavenPackage("org.codehaus.plexus", "plexus-component-annotations", "2.1.1"),
				"opt/lib/plexus-component-annotations-2.1.1.jar!/META-INF/maven/org.codehaus.plexus/plexus-component-annotations/pom.properties")},
		},
		{
			Name: "manifest_fallback", Path: "usr/share/java/atinject-jsr330-api-1.0.jar", Content: inject, WantLocations: true,
			Want: []inventory.Package{withLoc(mavenPackage("javax.inject", "javax.inject", "1.0.0"), "usr/share/java/atinject-jsr330-api-1.0.jar")},
		},
		{
			Name: "nested_ear_war_jar", Path: "srv/app.ear", Content: ear,
			Want: []inventory.Package{
				mavenPackage("org.codehaus.plexus", "plexus-component-annotations", "2.1.1"),
				mavenPackage("javax.inject", "javax.inject", "1.0.0"),
			},
		},
		{Name: "not_zip", Path: "a.jar", Content: []byte("PK\x03\x04 nope"), WantErr: true},
	})
}

func TestNestingBound(t *testing.T) {
	inner := read(t, "testdata/plexus-component-annotations-2.1.1.jar")
	for range MaxDepth + 1 {
		inner = zipOf(t, file("lib/inner.jar", inner))
	}
	pkgs, err := New().Extract(t.Context(), inventorytest.Input("deep.jar", 0, inner, 1<<20))
	if err == nil {
		t.Errorf("archive nested %d deep: no error", MaxDepth+2)
	}
	if len(pkgs) != 0 {
		t.Errorf("got packages past the depth bound: %v", pkgs)
	}
}

func TestPURL(t *testing.T) {
	got := mavenPackage("org.apache.logging.log4j", "log4j-core", "2.14.1")
	if diff := cmp.Diff("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", got.PURL); diff != "" {
		t.Error(diff)
	}
	if got.Name != "org.apache.logging.log4j:log4j-core" || got.Ecosystem != "Maven" {
		t.Errorf("got %+v", got)
	}
}

func withLoc(p inventory.Package, loc string) inventory.Package {
	p.Locations = []string{loc}
	return p
}

func FuzzExtract(f *testing.F) {
	f.Add(read(f, "testdata/atinject-jsr330-api-1.0.jar"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = New().Extract(t.Context(), inventorytest.Input("x.jar", 0, b, 1<<20))
	})
}
