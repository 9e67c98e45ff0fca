package sbom_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/sbom"
)

// FuzzBuild feeds arbitrary package and finding fields (what extractors
// read from image files) to Build: it never panics, the output is JSON,
// bom-refs stay unique and every affects ref names a component.
func FuzzBuild(f *testing.F) {
	f.Add("lodash", "4.17.20", "pkg:npm/lodash@4.17.20", "app/node_modules/lodash/package.json", "GHSA-x", "CVSS:3.1/AV:N", "7.5", "4.17.21")
	f.Add("", "", "", "", "", "", "", "")
	f.Add("a\x00b", "1:2~3", "pkg:deb/debian/a@1", "a#b", "CVE-1", "AV:N/AC:L", "nan", "")
	f.Fuzz(func(t *testing.T, name, version, purl, loc, id, vector, score, fixed string) {
		pkg := inventory.Package{Name: name, Version: version, PURL: purl, Type: "npm", Locations: []string{loc}}
		inv := &inventory.Result{Packages: []inventory.Package{pkg, pkg, pkg}}
		fs := []finding.Finding{{
			RuleID: id, Category: "vulnerability", Resource: finding.Resource{File: loc},
			Evidence: []finding.Evidence{
				{Name: "purl", Value: purl}, {Name: "version", Value: version}, {Name: "cvssVector", Value: vector},
				{Name: "cvssScore", Value: score}, {Name: "fixedVersion", Value: fixed}, {Name: "aliases", Value: id + "," + name},
			},
		}}
		img := &image.Image{Source: image.Source{Kind: image.KindDir, Path: loc}}
		var buf bytes.Buffer
		if err := sbom.Write(&buf, sbom.Build(sbom.Input{Image: img, Inventory: inv, Findings: fs}, sbom.Options{Tool: tool, Time: fixedTime})); err != nil {
			t.Fatalf("Write: %v", err)
		}
		var doc sbom.BOM
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, buf.Bytes())
		}
		refs := map[string]bool{doc.Metadata.Component.BOMRef: true}
		for _, c := range doc.Components {
			if refs[c.BOMRef] {
				t.Fatalf("bom-ref %q used twice", c.BOMRef)
			}
			refs[c.BOMRef] = true
		}
		for _, v := range doc.Vulnerabilities {
			for _, a := range v.Affects {
				if !refs[a.Ref] {
					t.Fatalf("affects ref %q names no component", a.Ref)
				}
			}
		}
	})
}
