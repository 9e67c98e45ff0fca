package finding

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// reportJSONSchema compiles the embedded report schema, with format
// assertions on. Compiling also checks it against the draft 2020-12
// metaschema.
func reportJSONSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema()))
	if err != nil {
		t.Fatalf("parse report schema: %v", err)
	}
	if m, _ := doc.(map[string]any); m["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Fatalf("report schema: $schema = %v, want draft 2020-12", m["$schema"])
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://palisade.invalid/report-v1.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("add report schema: %v", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile report schema: %v", err)
	}
	return sch
}

func writeJSONDoc(t *testing.T, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, FormatJSON, r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestJSONValidatesAgainstSchema(t *testing.T) {
	sch := reportJSONSchema(t)
	for _, tc := range append(testCases(), testCase{"rich", richReport()}) {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(writeJSONDoc(t, tc.report)))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(doc); err != nil {
				t.Errorf("JSON output does not match schema/report-v1.schema.json:\n%v", err)
			}
		})
	}
}

// TestJSONSchemaRejects checks that the schema has teeth.
func TestJSONSchemaRejects(t *testing.T) {
	sch := reportJSONSchema(t)
	finding0 := func(d map[string]any) map[string]any { return d["findings"].([]any)[0].(map[string]any) }
	tests := []struct {
		name   string
		mutate func(d map[string]any)
	}{
		{"major version 2", func(d map[string]any) { d["schemaVersion"] = "2.0" }},
		{"missing findings", func(d map[string]any) { delete(d, "findings") }},
		{"unknown field", func(d map[string]any) { d["extra"] = 1 }},
		{"errors but not partial", func(d map[string]any) { d["errors"] = []any{"boom"}; d["partial"] = false }},
		{"bad severity", func(d map[string]any) { finding0(d)["severity"] = "urgent" }},
		{"bad status", func(d map[string]any) { finding0(d)["status"] = "ignored" }},
		{"excepted without exception", func(d map[string]any) {
			f := finding0(d)
			f["status"] = "excepted"
			delete(f, "exception")
		}},
		{"bad generatedAt", func(d map[string]any) { d["generatedAt"] = "14/03/2025" }},
		{"negative count", func(d map[string]any) { d["summary"].(map[string]any)["open"] = -1 }},
		{"zero line", func(d map[string]any) { finding0(d)["resource"].(map[string]any)["line"] = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d map[string]any
			if err := json.Unmarshal(writeJSONDoc(t, NewReport(testTool(), "t", testNow(), mixedFindings()[1:])), &d); err != nil {
				t.Fatal(err)
			}
			tt.mutate(d)
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(doc); err == nil {
				t.Error("schema accepted an invalid document")
			}
		})
	}
}

// TestJSONRoundTrip checks that the document carries the whole report: it
// decodes back into the Report that was written, hostile strings included.
func TestJSONRoundTrip(t *testing.T) {
	for _, tc := range append(testCases(), testCase{"rich", richReport()}) {
		t.Run(tc.name, func(t *testing.T) {
			var got Report
			if err := json.Unmarshal(writeJSONDoc(t, tc.report), &got); err != nil {
				t.Fatal(err)
			}
			// JSON is UTF-8: the encoder turns each invalid byte into U+FFFD,
			// as a []rune conversion does.
			validUTF8 := cmp.Transformer("validUTF8", func(s string) string { return string([]rune(s)) })
			want := *tc.report
			want.Scores = ComputeScores(&want) // derived when written
			if diff := cmp.Diff(&want, &got, validUTF8); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJSONSchemaReturnsCopy(t *testing.T) {
	a := JSONSchema()
	a[0] = 'X'
	if b := JSONSchema(); b[0] == 'X' {
		t.Error("JSONSchema returned the embedded bytes, not a copy")
	}
	if !json.Valid(JSONSchema()) {
		t.Error("JSONSchema is not valid JSON")
	}
}

// TestDocExampleValidates keeps docs/output-json.md honest: its example
// document must match the schema.
func TestDocExampleValidates(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "docs", "output-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/output-json.md has no ```json example")
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(example))
	if err != nil {
		t.Fatalf("example is not JSON: %v", err)
	}
	if err := reportJSONSchema(t).Validate(doc); err != nil {
		t.Errorf("example in docs/output-json.md does not match the schema:\n%v", err)
	}
	var r Report
	if err := json.Unmarshal([]byte(example), &r); err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if got := ComputeID(&f); got != f.ID {
			t.Errorf("example finding %s: id should be %s", f.ID, got)
		}
	}
	if got := Summarize(r.Findings); got != r.Summary {
		t.Errorf("example summary %+v, want %+v", r.Summary, got)
	}
}
