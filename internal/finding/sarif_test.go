package finding

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	// The official OASIS SARIF 2.1.0 schema ships in this module; the blank
	// import keeps it in go.mod so the test below can find it on disk. We
	// read the schema from there rather than copying it into the repository.
	_ "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

const (
	sarifModule     = "github.com/owenrumney/go-sarif/v3"
	sarifSchemaFile = "pkg/report/v210/sarif/schema.go"
)

// officialSARIFSchema compiles the OASIS SARIF 2.1.0 JSON Schema (draft-04)
// found in the go-sarif module. It fails the test, never skips, when the
// schema cannot be found or compiled.
func officialSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "go", "list", "-m", "-f", "{{.Dir}}", sarifModule).Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("locate module %s: %v\n%s", sarifModule, err, stderr)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Fatalf("locate module %s: not in the module cache (run go mod download %s)", sarifModule, sarifModule)
	}
	src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(sarifSchemaFile)))
	if err != nil {
		t.Fatalf("read SARIF schema: %v", err)
	}
	text, ok := firstRawString(string(src))
	if !ok {
		t.Fatalf("read SARIF schema: no raw string literal in %s", sarifSchemaFile)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse SARIF schema: %v", err)
	}
	if m, _ := doc.(map[string]any); m == nil || !strings.Contains(toString(m["title"]), "SARIF") || !strings.Contains(toString(m["$schema"]), "draft-04") {
		t.Fatalf("parse SARIF schema: %s does not hold the draft-04 SARIF schema", sarifSchemaFile)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.AssertFormat()
	const url = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("add SARIF schema: %v", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile SARIF schema: %v", err)
	}
	return sch
}

// firstRawString returns the text between the first pair of backticks.
func firstRawString(src string) (string, bool) {
	start := strings.IndexByte(src, '`')
	if start < 0 {
		return "", false
	}
	end := strings.IndexByte(src[start+1:], '`')
	if end < 0 {
		return "", false
	}
	return src[start+1 : start+1+end], true
}

func toString(v any) string { s, _ := v.(string); return s }

// richReport holds every test case's findings in one report, partial.
func richReport() *Report {
	var fs []Finding
	for _, tc := range testCases() {
		fs = append(fs, tc.report.Findings...)
	}
	r := NewReport(testTool(), "everything", testNow(), fs)
	r.Errors = partialReport().Errors
	r.Partial = true
	return r
}

func TestSARIFValidatesAgainstOfficialSchema(t *testing.T) {
	sch := officialSARIFSchema(t)
	reports := append(testCases(), testCase{"rich", richReport()})
	for _, tc := range reports {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, FormatSARIF, tc.report, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			doc, err := jsonschema.UnmarshalJSON(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(doc); err != nil {
				t.Errorf("SARIF output is not valid SARIF 2.1.0:\n%v", err)
			}
		})
	}
}

// TestSARIFSchemaRejects checks that the schema check has teeth: documents
// that break SARIF fail it.
func TestSARIFSchemaRejects(t *testing.T) {
	sch := officialSARIFSchema(t)
	tests := []struct {
		name   string
		mutate func(log map[string]any)
	}{
		{"wrong version", func(log map[string]any) { log["version"] = "2.0.0" }},
		{"bad level", func(log map[string]any) { firstResult(log)["level"] = "critical" }},
		{"bad suppression kind", func(log map[string]any) {
			firstResult(log)["suppressions"] = []any{map[string]any{"kind": "sideways"}}
		}},
		{"unknown top-level field", func(log map[string]any) { log["extra"] = true }},
		{"bad date-time format", func(log map[string]any) {
			log["runs"].([]any)[0].(map[string]any)["invocations"].([]any)[0].(map[string]any)["endTimeUtc"] = "yesterday"
		}},
		{"bad uri format", func(log map[string]any) {
			firstResult(log)["locations"] = []any{map[string]any{"physicalLocation": map[string]any{
				"artifactLocation": map[string]any{"uri": "a b\\c.yaml"},
			}}}
		}},
		{"zero start line", func(log map[string]any) {
			firstResult(log)["locations"] = []any{map[string]any{"physicalLocation": map[string]any{
				"artifactLocation": map[string]any{"uri": "a.yaml"}, "region": map[string]any{"startLine": 0},
			}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := decodeSARIF(t, NewReport(testTool(), "t", testNow(), mixedFindings()))
			tt.mutate(log)
			b, err := json.Marshal(log)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(doc); err == nil {
				t.Error("schema accepted an invalid SARIF log")
			}
		})
	}
}

func decodeSARIF(t *testing.T, r *Report) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, FormatSARIF, r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	var log map[string]any
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	return log
}

// writeSARIFLog writes r as SARIF and reads it back typed.
func writeSARIFLog(t *testing.T, r *Report) sarifLog {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, FormatSARIF, r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	return log
}

func firstResult(log map[string]any) map[string]any {
	return log["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)
}

// TestSARIFContent checks what the schema cannot: results point at the right
// rule, levels and scores follow severity, excepted findings are suppressed,
// every finding keeps its ID, and the partial state is reported.
func TestSARIFContent(t *testing.T) {
	r := richReport()
	log := writeSARIFLog(t, r)
	if len(log.Runs) != 1 {
		t.Fatalf("got %d runs, want 1", len(log.Runs))
	}
	run := log.Runs[0]
	if got, want := run.Tool.Driver.Name, "palisade"; got != want {
		t.Errorf("driver name = %q, want %q", got, want)
	}
	if inv := run.Invocations[0]; inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != len(r.Errors) {
		t.Errorf("partial report: invocation = %+v, want executionSuccessful false and %d notifications", inv, len(r.Errors))
	}
	if len(run.Results) != len(r.Findings) {
		t.Fatalf("got %d results, want %d", len(run.Results), len(r.Findings))
	}
	wantScore := map[Severity]string{SeverityCritical: "9.5", SeverityHigh: "8.0", SeverityMedium: "5.5", SeverityLow: "3.0"}
	wantLevel := map[Severity]string{SeverityCritical: "error", SeverityHigh: "error", SeverityMedium: "warning", SeverityLow: "note", SeverityInfo: "note", SeverityUnknown: "note"}
	for i, res := range run.Results {
		f := r.Findings[i]
		rule := run.Tool.Driver.Rules[res.RuleIndex]
		if rule.ID != res.RuleID || res.RuleID != f.RuleID {
			t.Errorf("result %d: ruleId %q, ruleIndex → %q, finding rule %q", i, res.RuleID, rule.ID, f.RuleID)
		}
		if res.Level != wantLevel[f.Severity] {
			t.Errorf("result %d (%s): level %q, want %q", i, f.Severity, res.Level, wantLevel[f.Severity])
		}
		if got := res.PartialFingerprints[sarifFingerprintKey]; got != f.ID {
			t.Errorf("result %d: fingerprint %q, want %q", i, got, f.ID)
		}
		if got, want := len(res.Suppressions) == 1, !f.Open(); got != want {
			t.Errorf("result %d: suppressed = %v, want %v", i, got, want)
		}
		if len(res.Locations) != 1 {
			t.Fatalf("result %d: %d locations, want 1", i, len(res.Locations))
		}
		loc := res.Locations[0]
		if f.Resource.File == "" {
			if loc.PhysicalLocation != nil || len(loc.LogicalLocations) != 1 || loc.LogicalLocations[0].FullyQualifiedName != f.Resource.Key() {
				t.Errorf("result %d: no file, want only a logical location %q, got %+v", i, f.Resource.Key(), loc)
			}
			continue
		}
		uri := loc.PhysicalLocation.ArtifactLocation.URI
		if strings.Contains(uri, `\`) || strings.HasPrefix(uri, "./") && !strings.Contains(uri, ":") {
			t.Errorf("result %d: uri %q: want forward slashes, no ./", i, uri)
		}
		if f.Resource.Line > 0 && (loc.PhysicalLocation.Region == nil || loc.PhysicalLocation.Region.StartLine != f.Resource.Line) {
			t.Errorf("result %d: region %+v, want startLine %d", i, loc.PhysicalLocation.Region, f.Resource.Line)
		}
	}
	for _, rule := range run.Tool.Driver.Rules {
		// Each rule carries the score of its most severe finding.
		most := SeverityUnknown
		for _, f := range r.Findings {
			if f.RuleID == rule.ID {
				most = max(most, f.Severity)
			}
		}
		got, _ := rule.Properties["security-severity"].(string)
		if got != wantScore[most] {
			t.Errorf("rule %s: security-severity %q, want %q", rule.ID, got, wantScore[most])
		}
	}
}

func TestSARIFArtifactURI(t *testing.T) {
	tests := []struct {
		file, base string
		want       sarifArtifact
	}{
		{"deploy/app.yaml", sarifSrcRoot, sarifArtifact{URI: "deploy/app.yaml", URIBaseID: sarifSrcRoot}},
		{"./deploy/app.yaml", sarifSrcRoot, sarifArtifact{URI: "deploy/app.yaml", URIBaseID: sarifSrcRoot}},
		{`deploy\sub dir\app.yaml`, sarifSrcRoot, sarifArtifact{URI: "deploy/sub%20dir/app.yaml", URIBaseID: sarifSrcRoot}},
		{"a:b.yaml", sarifSrcRoot, sarifArtifact{URI: "./a:b.yaml", URIBaseID: sarifSrcRoot}},
		{"dir/#1?.yaml", sarifSrcRoot, sarifArtifact{URI: "dir/%231%3F.yaml", URIBaseID: sarifSrcRoot}},
		{"/abs/app.yaml", sarifSrcRoot, sarifArtifact{URI: "file:///abs/app.yaml"}},
		{`C:\work\app.yaml`, sarifSrcRoot, sarifArtifact{URI: "file:///C:/work/app.yaml"}},
		{"/etc/passwd", sarifImageRoot, sarifArtifact{URI: "etc/passwd", URIBaseID: sarifImageRoot}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, sarifArtifactOf(tt.file, tt.base)); diff != "" {
				t.Errorf("sarifArtifactOf(%q) (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

// TestSARIFBaseOfFile: a posture finding on a container names its image,
// but its file is the manifest in the repository (%SRCROOT%, which code
// scanning maps to the checkout); only an image's own files are under
// IMAGEROOT.
func TestSARIFBaseOfFile(t *testing.T) {
	container := Resource{Namespace: "shop", APIVersion: "apps/v1", Kind: "Deployment", Name: "api", Container: "api", Image: "ghcr.io/acme/api:1.4.2", File: "deploy/api.yaml", Line: 20}
	inImage := Resource{Image: "ghcr.io/acme/api:1.4.2", ImageDigest: "sha256:0f5c", File: "/app/config/.env", Line: 3}
	for _, tt := range []struct {
		r    Resource
		want string
	}{
		{container, sarifSrcRoot},
		{Resource{Kind: "ConfigMap", Name: "c", File: "deploy/c.yaml"}, sarifSrcRoot},
		{inImage, sarifImageRoot},
		{Resource{ImageDigest: "sha256:0f5c", File: "etc/passwd"}, sarifImageRoot},
	} {
		if got := sarifBaseOfFile(tt.r); got != tt.want {
			t.Errorf("sarifBaseOfFile(%s) = %s, want %s", tt.r.Key(), got, tt.want)
		}
	}
	r := &Report{Findings: []Finding{
		{RuleID: "posture/privileged", Severity: SeverityCritical, Resource: container, Message: "privileged"},
		{RuleID: "secret/aws-access-key-id", Severity: SeverityHigh, Resource: inImage, Message: "key"},
	}}
	var got []string
	for _, res := range writeSARIFLog(t, r).Runs[0].Results {
		a := res.Locations[0].PhysicalLocation.ArtifactLocation
		got = append(got, a.URIBaseID+" "+a.URI)
	}
	if want := []string{"%SRCROOT% deploy/api.yaml", "IMAGEROOT app/config/.env"}; !slices.Equal(got, want) {
		t.Errorf("artifact locations %q, want %q", got, want)
	}
}
