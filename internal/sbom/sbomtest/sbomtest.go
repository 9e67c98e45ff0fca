// Package sbomtest validates CycloneDX documents against the official
// CycloneDX 1.6 JSON schema, read from the pinned npm package
// @cyclonedx/cyclonedx-library under tools/cyclonedx (scripts/deps.sh
// installs it with npm ci).
package sbomtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/palisade-sec/palisade/internal/sharedtest"
)

// schemaDir is where the npm package keeps its schemas, relative to the
// repository root.
const schemaDir = "tools/cyclonedx/node_modules/@cyclonedx/cyclonedx-library/res/schema"

// The package names its files *.SNAPSHOT.schema.json and refers to the
// neighbours by those names, so each is added under the URL the bom
// schema's relative $refs resolve to.
const (
	base    = "http://cyclonedx.org/schema/"
	bomFile = "bom-1.6.SNAPSHOT.schema.json"
)

// Dir returns the schema directory of the repository this file is in.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", filepath.FromSlash(schemaDir))
}

// Schema returns the compiled CycloneDX 1.6 schema. When the npm package
// is not installed it skips tb, or fails it under PALISADE_REQUIRE_SHARED=1
// (make test), as for other reference data.
func Schema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	dir := Dir()
	if _, err := os.Stat(filepath.Join(dir, bomFile)); err != nil {
		sharedtest.Missing(tb, "CycloneDX schema not installed (run scripts/deps.sh or npm ci --prefix tools/cyclonedx): %v", err)
	}
	sch, err := compile(dir)
	if err != nil {
		tb.Fatalf("compile CycloneDX schema from %s: %v", dir, err)
	}
	return sch
}

func compile(dir string) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	for _, f := range []string{bomFile, "spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json", "cryptography-defs.SNAPSHOT.schema.json"} {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, fmt.Errorf("read schema: %w", err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("parse schema %s: %w", f, err)
		}
		if err := c.AddResource(base+f, doc); err != nil {
			return nil, fmt.Errorf("add schema %s: %w", f, err)
		}
	}
	return c.Compile(base + bomFile)
}

// Validate fails tb when doc is not a valid CycloneDX 1.6 JSON document.
func Validate(tb testing.TB, doc []byte) {
	tb.Helper()
	if err := Check(Schema(tb), doc); err != nil {
		tb.Fatal(err)
	}
}

// Check returns why doc is not a valid CycloneDX 1.6 JSON document, or
// nil.
func Check(sch *jsonschema.Schema, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("CycloneDX document is not JSON: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("CycloneDX document is not valid against the 1.6 schema: %w", err)
	}
	return nil
}
