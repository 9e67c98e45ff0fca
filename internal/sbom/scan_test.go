package sbom_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/image/imagetest"
	"github.com/palisade-sec/palisade/internal/imagescan"
	"github.com/palisade-sec/palisade/internal/inventory/inventorytest"
	"github.com/palisade-sec/palisade/internal/inventory/list"
	"github.com/palisade-sec/palisade/internal/sbom"
	"github.com/palisade-sec/palisade/internal/sbom/sbomtest"
	"github.com/palisade-sec/palisade/internal/sharedtest"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

// TestScanVulnerabilities scans a real image (Debian 12 with 2019 openssl,
// an Alpine apk database, an npm package, GDAL 3.0.1 for Python and a Go
// binary built against golang.org/x/text v0.3.7) against the real Go and
// PyPI advisories (the ones the assertions need; the race detector makes
// importing more slow), and checks that the document is valid and that
// the vulnerabilities appear with their fixed versions, CVSS ratings and
// aliases, affecting the right components.
func TestScanVulnerabilities(t *testing.T) {
	var bundles []string
	for _, eco := range []string{"Go", "PyPI"} {
		p := filepath.Join("..", "..", "..", "shared", "vulndb", eco+"-all.zip")
		if _, err := os.Stat(p); err != nil {
			sharedtest.Missing(t, "real advisory bundles not found: %v", err)
		}
		bundles = append(bundles, p)
	}
	dbPath := filepath.Join(t.TempDir(), "osv.db")
	if _, err := vulndb.Import(t.Context(), dbPath, bundles, vulndb.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(t.Context(), dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	bin := inventorytest.BuildVulnerableGo(t)
	v1img := imagetest.Image(t, v1.Config{User: "10001"},
		imagetest.Step{CreatedBy: "ADD rootfs.tar /", Layer: imagetest.Layer(t, fstest.MapFS{
			"etc/os-release":       {Data: []byte(debianOSRelease)},
			"var/lib/dpkg/status":  {Data: []byte("Package: libssl1.1\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 1.1.1c-1\n\n")},
			"lib/apk/db/installed": {Data: []byte("P:busybox\nV:1.36.1-r2\nA:x86_64\no:busybox\n\n")},
		})},
		imagetest.Step{CreatedBy: "COPY app /app", Layer: imagetest.Layer(t, fstest.MapFS{
			"app/server": {Data: bin, Mode: 0o755},
			"usr/lib/python3/dist-packages/GDAL-3.0.1.dist-info/METADATA": {Data: []byte("Metadata-Version: 2.1\nName: GDAL\nVersion: 3.0.1\n")},
			"app/node_modules/lodash/package.json":                        {Data: []byte(`{"name":"lodash","version":"4.17.20"}`)},
		})},
	)
	ref := "registry.example/shop/legacy:1.0"
	img, err := image.FromV1(image.Source{Kind: image.KindRegistry, Ref: ref}, v1img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := imagescan.Scan(t.Context(), img, ref, tool, imagescan.Options{
		Extractors: list.Default(), DB: db, Now: func() time.Time { return fixedTime },
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := sbom.Write(&buf, sbom.Build(sbom.Input{Image: img, Reference: ref, Inventory: res.Inventory, Findings: res.Report.Findings}, sbom.Options{Tool: tool, Time: fixedTime})); err != nil {
		t.Fatal(err)
	}
	sbomtest.Validate(t, buf.Bytes())
	var doc sbom.BOM
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}

	types := map[string]bool{}
	byName := map[string]string{}
	for _, c := range doc.Components {
		if c.PURL != "" {
			types[strings.SplitN(strings.TrimPrefix(c.PURL, "pkg:"), "/", 2)[0]] = true
		}
		byName[strings.ToLower(c.Name)] = c.BOMRef
	}
	for _, want := range []string{"deb", "apk", "npm", "golang", "pypi"} {
		if !types[want] {
			t.Errorf("no %s component in the document (have %v)", want, types)
		}
	}
	for _, tt := range []struct {
		ids              []string // the advisory and its aliases; the scan names it by its preferred one
		component        string
		installed, fixed string
		alias            string
		method, severity string
		score            float64 // 0: the advisory gives no CVSS score
		vectorPrefix     string
	}{
		// The Go advisory gives no CVSS; its severity stays unknown.
		{ids: []string{"CVE-2022-32149", "GO-2022-1059", "GHSA-69ch-w2m2-3vjp"}, component: "golang.org/x/text", installed: "0.3.7", fixed: "0.3.8", alias: "GO-2022-1059", severity: "unknown"},
		{ids: []string{"CVE-2019-17545", "PYSEC-2019-241"}, component: "gdal", installed: "3.0.1", fixed: "3.0.2", alias: "PYSEC-2019-241",
			method: "CVSSv31", severity: "critical", score: 9.8, vectorPrefix: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
	} {
		t.Run(tt.component, func(t *testing.T) {
			ref := byName[tt.component]
			if ref == "" {
				t.Fatalf("%s is not a component", tt.component)
			}
			i := slices.IndexFunc(doc.Vulnerabilities, func(v sbom.Vulnerability) bool { return slices.Contains(tt.ids, v.ID) })
			if i < 0 {
				t.Fatalf("none of %v is in the vulnerabilities; have %v", tt.ids, ids(doc.Vulnerabilities))
			}
			v := doc.Vulnerabilities[i]
			if len(v.Affects) != 1 || v.Affects[0].Ref != ref {
				t.Fatalf("%s affects %+v, want %s", v.ID, v.Affects, ref)
			}
			got := v.Affects[0].Versions
			has := func(version, status string) bool {
				return slices.ContainsFunc(got, func(a sbom.AffectVersion) bool {
					return strings.TrimPrefix(a.Version, "v") == version && a.Status == status
				})
			}
			if !has(tt.installed, "affected") || !has(tt.fixed, "unaffected") {
				t.Errorf("%s versions = %+v, want %s affected and the fix %s unaffected", v.ID, got, tt.installed, tt.fixed)
			}
			if !strings.Contains(v.Recommendation, tt.fixed) {
				t.Errorf("%s recommendation %q does not name the fixed version", v.ID, v.Recommendation)
			}
			if len(v.Ratings) != 1 {
				t.Fatalf("%s ratings = %+v, want one", v.ID, v.Ratings)
			}
			r := v.Ratings[0]
			scoreOK := tt.score == 0 && r.Score == nil || r.Score != nil && *r.Score == tt.score
			if r.Method != tt.method || r.Severity != tt.severity || !strings.HasPrefix(r.Vector, tt.vectorPrefix) || !scoreOK {
				t.Errorf("%s rating = %+v (score %v), want %s %s %v %s", v.ID, r, r.Score, tt.method, tt.severity, tt.score, tt.vectorPrefix)
			}
			if v.ID != tt.alias && !slices.ContainsFunc(v.References, func(r sbom.Reference) bool { return r.ID == tt.alias }) {
				t.Errorf("%s references = %+v, want the alias %s", v.ID, v.References, tt.alias)
			}
		})
	}
	// Every vulnerability finding of the report is in the document.
	want := map[string]bool{}
	for _, f := range res.Report.Findings {
		if f.Category == vulndb.Category {
			want[f.RuleID] = true
		}
	}
	if len(want) != len(doc.Vulnerabilities) || len(want) < 2 {
		t.Errorf("report has %d vulnerability IDs, document %d", len(want), len(doc.Vulnerabilities))
	}
}

func ids(vs []sbom.Vulnerability) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}
