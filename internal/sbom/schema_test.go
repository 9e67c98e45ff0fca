package sbom_test

import (
	"encoding/json"
	"testing"

	"github.com/palisade-sec/palisade/internal/sbom"
	"github.com/palisade-sec/palisade/internal/sbom/sbomtest"
)

// TestSchemaRejects shows the schema check can fail: documents broken in
// ways a writer bug could break them are refused.
func TestSchemaRejects(t *testing.T) {
	sch := sbomtest.Schema(t)
	good := build(t, debianNPM(t), "registry.example/shop/web:1.0", scanFindings)
	if err := sbomtest.Check(sch, good); err != nil {
		t.Fatalf("the good document is refused: %v", err)
	}
	for _, tt := range []struct {
		name   string
		mutate func(*sbom.BOM)
	}{
		{"serial number not a UUID", func(b *sbom.BOM) { b.SerialNumber = "urn:uuid:not-a-uuid" }},
		{"unknown component type", func(b *sbom.BOM) { b.Components[0].Type = "package" }},
		{"unknown severity", func(b *sbom.BOM) { b.Vulnerabilities[0].Ratings[0].Severity = "severe" }},
		{"unknown version status", func(b *sbom.BOM) { b.Vulnerabilities[0].Affects[0].Versions[0].Status = "fixed" }},
		{"bomFormat", func(b *sbom.BOM) { b.BOMFormat = "SPDX" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b sbom.BOM
			if err := json.Unmarshal(good, &b); err != nil {
				t.Fatal(err)
			}
			tt.mutate(&b)
			raw, err := json.Marshal(&b)
			if err != nil {
				t.Fatal(err)
			}
			if err := sbomtest.Check(sch, raw); err == nil {
				t.Errorf("the schema accepts a document with a broken %s", tt.name)
			}
		})
	}
}
