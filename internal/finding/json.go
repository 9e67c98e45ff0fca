package finding

import (
	"bytes"
	_ "embed" // for the JSON Schema of the report document
	"encoding/json"
	"fmt"
	"io"
)

// reportSchema is the JSON Schema (draft 2020-12) of the document writeJSON
// emits. Callers get a copy from JSONSchema, so it is never modified.
//
//go:embed schema/report-v1.schema.json
var reportSchema []byte

// JSONSchema returns the JSON Schema (draft 2020-12) of the JSON report
// document, major version 1. The v1 schema accepts every 1.x document.
func JSONSchema() []byte { return bytes.Clone(reportSchema) }

// writeJSON writes p, already prepared, as the indented JSON document.
// HTML characters are not escaped: the document is data, and "ATT&CK" should
// read as such; control characters in strings are still escaped by JSON.
func writeJSON(w io.Writer, p *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	return nil
}
