package finding

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewReport(t *testing.T) {
	in := mixedFindings()
	before := mixedFindings()
	local := time.Date(2025, 3, 14, 16, 9, 26, 0, time.FixedZone("CET", 3600))
	r := NewReport(testTool(), "deploy/", local, in)

	if diff := cmp.Diff(before, in); diff != "" {
		t.Errorf("NewReport modified the caller's slice (-before +after):\n%s", diff)
	}
	if r.SchemaVersion != SchemaVersion || r.Target != "deploy/" || r.Tool != testTool() {
		t.Errorf("header = %q %q %+v", r.SchemaVersion, r.Target, r.Tool)
	}
	if !r.GeneratedAt.Equal(local) || r.GeneratedAt.Location() != time.UTC {
		t.Errorf("GeneratedAt = %v, want %v in UTC", r.GeneratedAt, local)
	}
	want := Summary{
		Total: 11, Open: 8, Excepted: 3,
		OpenBySeverity: SeverityCounts{Critical: 1, High: 3, Medium: 1, Low: 1, Info: 1, Unknown: 1},
	}
	if diff := cmp.Diff(want, r.Summary); diff != "" {
		t.Errorf("Summary (-want +got):\n%s", diff)
	}
	for i := 1; i < len(r.Findings); i++ {
		if r.Findings[i-1].Severity < r.Findings[i].Severity {
			t.Errorf("findings not sorted most severe first at %d", i)
		}
	}
	if r.Partial || r.IsPartial() {
		t.Error("new report is partial")
	}
}

// TestNewReportDropsRepeats: a finding met again (one object scanned
// twice, a chart's object rendered again where the parent's values moved
// its line, a file holding one object twice) is listed once, at its first
// line; findings that share an ID but not a message are all kept.
func TestNewReportDropsRepeats(t *testing.T) {
	base := Finding{RuleID: "posture/privileged", Severity: SeverityCritical, Message: "privileged",
		Resource: Resource{Kind: "Deployment", Name: "web", File: "chart/templates/deploy.yaml", Line: 12}}
	otherLine, otherMessage, otherRule, otherContainer := base, base, base, base
	otherLine.Resource.Line = 40
	otherMessage.Message = "privileged, with hostPID"
	otherRule.RuleID = "posture/run-as-root"
	otherContainer.Resource.Container = "sidecar"
	otherContainer.Resource.Line = 30
	r := NewReport(testTool(), "t", testNow(), []Finding{otherLine, base, otherRule, base, otherContainer, base, otherMessage})
	var got []string
	for _, f := range r.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s %s", f.RuleID, f.Resource.Line, f.Resource.Container, f.Message))
	}
	want := []string{
		"posture/privileged:12  privileged",
		"posture/privileged:12  privileged, with hostPID",
		"posture/privileged:30 sidecar privileged",
		"posture/run-as-root:12  privileged",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if r.Summary.Total != 4 {
		t.Errorf("summary counts %d, want 4", r.Summary.Total)
	}
}

// TestDropRepeatsLargeGroup: one resource with many findings of one rule
// (looked up in a map past repeatMapFrom) keeps each once, in order.
func TestDropRepeatsLargeGroup(t *testing.T) {
	var fs, want []Finding
	for i := range 3 * repeatMapFrom {
		f := Finding{ID: fmt.Sprintf("PAL-%d", i%(2*repeatMapFrom)), RuleID: "posture/configmap-secrets", Severity: SeverityHigh,
			Message: "key", Resource: Resource{Kind: "ConfigMap", Name: "settings", Line: i + 1}, Status: StatusOpen}
		fs = append(fs, f)
		if i < 2*repeatMapFrom {
			want = append(want, f)
		}
	}
	if diff := cmp.Diff(want, dropRepeats(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestNewReportEmpty(t *testing.T) {
	r := NewReport(testTool(), "t", testNow(), nil)
	if r.Findings == nil {
		t.Error("Findings is nil; want empty so JSON says [] not null")
	}
	if r.Summary != (Summary{}) {
		t.Errorf("Summary = %+v, want zero", r.Summary)
	}
}

func TestAddError(t *testing.T) {
	r := NewReport(testTool(), "t", testNow(), nil)
	r.AddError(errors.New("read layer: unexpected EOF"))
	if !r.Partial || !r.IsPartial() || len(r.Errors) != 1 {
		t.Errorf("after AddError: Partial=%v Errors=%q", r.Partial, r.Errors)
	}
}

func TestSeverityCounts(t *testing.T) {
	c := SeverityCounts{Critical: 1, High: 2, Medium: 3, Low: 4, Info: 5, Unknown: 6}
	tests := []struct {
		min  Severity
		want int
	}{
		{SeverityCritical, 1},
		{SeverityHigh, 3},
		{SeverityMedium, 6},
		{SeverityLow, 10},
		{SeverityInfo, 15},
		{SeverityUnknown, 21},
	}
	for _, tt := range tests {
		if got := c.AtLeast(tt.min); got != tt.want {
			t.Errorf("AtLeast(%v) = %d, want %d", tt.min, got, tt.want)
		}
	}
	if got := c.Get(Severity(99)); got != c.Unknown {
		t.Errorf("Get(99) = %d, want the unknown count %d", got, c.Unknown)
	}
}

// TestWriteRecomputes checks that a report built by hand, with a stale
// summary, unsorted findings and errors but no Partial flag, is written
// consistently: the summary matches the findings and the output says partial.
func TestWriteRecomputes(t *testing.T) {
	r := &Report{
		Tool:     testTool(),
		Target:   "hand-built",
		Errors:   []string{"lost a layer"},
		Summary:  Summary{Total: 99},
		Findings: []Finding{{RuleID: "a", Severity: SeverityLow}, {RuleID: "b", Severity: SeverityCritical}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, FormatJSON, r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	var got Report
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Partial {
		t.Error("report with errors written as not partial")
	}
	if got.SchemaVersion != SchemaVersion {
		t.Errorf("schemaVersion = %q, want %q", got.SchemaVersion, SchemaVersion)
	}
	want := Summary{Total: 2, Open: 2, OpenBySeverity: SeverityCounts{Critical: 1, Low: 1}}
	if diff := cmp.Diff(want, got.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if got.Findings[0].RuleID != "b" || got.Findings[0].ID == "" || got.Findings[0].Status != StatusOpen {
		t.Errorf("findings not normalized: %+v", got.Findings)
	}
	if r.Findings[0].ID != "" || r.Summary.Total != 99 {
		t.Error("Write modified the report it was given")
	}
}

// TestBaseline: findings open in an earlier report are excepted as the
// baseline's; new ones stay open; one excepted in the baseline is not in
// it; baseline findings no longer found are counted.
func TestBaseline(t *testing.T) {
	mk := func(rule, name string) Finding {
		return Finding{RuleID: rule, Severity: SeverityHigh, Message: "m", Resource: Resource{Kind: "Deployment", Name: name}}
	}
	old := NewReport(testTool(), "t", testNow(), []Finding{mk("posture/a", "web"), mk("posture/b", "web"), mk("posture/c", "gone"), mk("posture/d", "web")})
	for i := range old.Findings {
		if old.Findings[i].RuleID == "posture/d" {
			old.Findings[i].Status, old.Findings[i].Exception = StatusExcepted, &ExceptionRef{ID: "x", Owner: "o", Reason: "r"}
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, FormatJSON, old, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBaseline("old.json", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 3 {
		t.Errorf("baseline holds %d open findings, want 3", b.Len())
	}
	now := NewReport(testTool(), "t", testNow(), []Finding{mk("posture/a", "web"), mk("posture/b", "web"), mk("posture/d", "web"), mk("posture/e", "web")})
	excepted, gone := b.Apply(now.Findings)
	if excepted != 2 || gone != 1 {
		t.Errorf("excepted %d, gone %d; want 2, 1", excepted, gone)
	}
	for _, f := range now.Findings {
		wantOpen := f.RuleID == "posture/d" || f.RuleID == "posture/e"
		if f.Open() != wantOpen || (!wantOpen && (f.Exception == nil || f.Exception.ID != "baseline")) {
			t.Errorf("%s: status %s, exception %+v", f.RuleID, f.Status, f.Exception)
		}
	}
	// The same baseline as a SARIF log: the suppressed result is not in it.
	buf.Reset()
	if err := Write(&buf, FormatSARIF, old, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	sb, err := LoadBaseline("old.sarif", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if sb.Len() != 3 || !sb.GeneratedAt.Equal(testNow()) {
		t.Errorf("SARIF baseline: %d open findings at %v; want 3 at %v", sb.Len(), sb.GeneratedAt, testNow())
	}
	for _, bad := range []string{``, `{"findings": []}`, `{"schemaVersion": "1.3"}`, `[1,2]`, `{"schemaVersion": "1.3", "findings": [`,
		`{"runs": [{"results": [{"ruleId": "x"}]}]}`} {
		if _, err := LoadBaseline("bad.json", strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "bad.json") {
			t.Errorf("LoadBaseline(%q) = %v, want an error naming the file", bad, err)
		}
	}
}
