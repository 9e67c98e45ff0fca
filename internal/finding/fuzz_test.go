package finding

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

// FuzzTableWriter feeds arbitrary strings into every field a hostile
// manifest or image controls and checks that no writer panics or fails, that
// the table stays terminal-safe with one row per finding, and that JSON and
// SARIF stay valid JSON.
func FuzzTableWriter(f *testing.F) {
	f.Add("posture/privileged", "evil\x1b[2Jpod", "deploy\\a b.yaml", "\x1b[32mPASS\nSummary: ok", "mallory\x1b]8;;x\x07", "\u202ereason", 7, true)
	f.Add("", "", "", "", "", "", 0, false)
	f.Add("r", strings.Repeat("n", 500), "/abs:path?#", "\xff\xfe\x00", "o", "r", -1, true)
	f.Add("vuln/\u009b31m", "a\tb", "C:\\x", "m", "", "", 1<<30, false)
	f.Fuzz(func(t *testing.T, rule, name, file, message, owner, reason string, line int, excepted bool) {
		fs := []Finding{
			{
				RuleID: rule, Title: message, Severity: SeverityHigh, Message: message, Category: name,
				Resource:    Resource{Namespace: name, Kind: "Pod", Name: name, Container: reason, Image: owner, File: file, Line: line, Column: line},
				Evidence:    []Evidence{{Name: name, Value: message, Key: true}},
				Remediation: reason, References: []string{file, message},
				Controls: []Control{{Framework: owner, ID: reason}},
			},
			{RuleID: "fixed/rule", Severity: SeverityLow, Message: name, Resource: Resource{Name: message}},
		}
		if excepted {
			fs[0].Status = StatusExcepted
			fs[0].Exception = &ExceptionRef{ID: name, Owner: owner, Reason: reason, Expires: time.Unix(int64(line), 0)}
		}
		r := NewReport(Tool{Name: name, Version: owner}, file, testNow(), fs)
		r.AddError(&stringError{message})
		valid := rule != "" && line >= 0

		var plainTable string // goldenFormats lists table before table-color
		for _, gf := range goldenFormats() {
			var buf bytes.Buffer
			err := Write(&buf, gf.format, r, gf.opts)
			if !valid {
				if err == nil {
					t.Fatalf("%s: Write accepted an invalid finding (rule %q, line %d)", gf.name, rule, line)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: Write: %v", gf.name, err)
			}
			out := buf.String()
			switch gf.format {
			case FormatTable:
				if gf.opts.Color {
					// Colour must add our SGR sequences and nothing else; the
					// plain table (rendered first) was checked to be safe.
					if stripped := sgr.ReplaceAllString(out, ""); stripped != plainTable {
						t.Fatalf("colour table minus SGR differs from plain table:\n%q\n%q", stripped, plainTable)
					}
					continue
				}
				assertTerminalSafe(t, out)
				plainTable = out
				if n := strings.Count(out, "\nSummary: "); n != 1 {
					t.Fatalf("%s: %d summary lines:\n%s", gf.name, n, out)
				}
			case FormatJUnit:
				assertWellFormedXML(t, buf.Bytes())
			case FormatHTML:
				if strings.ContainsAny(out, "\x1b\x07") {
					t.Fatalf("html: raw control characters in output:\n%q", out)
				}
			default:
				if !json.Valid(buf.Bytes()) {
					t.Fatalf("%s: output is not valid JSON:\n%s", gf.name, out)
				}
			}
		}
	})
}

func assertWellFormedXML(t *testing.T, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("junit: not well-formed XML: %v\n%s", err, b)
		}
	}
}

type stringError struct{ s string }

func (e *stringError) Error() string { return e.s }

// FuzzLoadBaseline: any input is a baseline or an error naming it; never a
// panic.
func FuzzLoadBaseline(f *testing.F) {
	f.Add([]byte(`{"schemaVersion": "1.3", "generatedAt": "2026-11-25T12:00:00Z", "findings": [{"id": "PAL-1", "status": "open"}, {"id": "PAL-2", "status": "excepted"}]}`))
	f.Add([]byte(`{"runs": [{"invocations": [{"endTimeUtc": "2026-11-25T12:00:00Z"}], "results": [{"partialFingerprints": {"palisadeFindingId/v1": "PAL-1"}}, {"partialFingerprints": {"palisadeFindingId/v1": "PAL-2"}, "suppressions": [{}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := LoadBaseline("fuzz.json", bytes.NewReader(data))
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("error %v does not name the baseline", err)
			}
			return
		}
		fs := []Finding{{ID: "PAL-1", Status: StatusOpen}, {ID: "PAL-3", Status: StatusOpen}}
		if excepted, gone := b.Apply(fs); excepted > 1 || gone < 0 || gone > b.Len() {
			t.Fatalf("Apply: excepted %d, gone %d of %d", excepted, gone, b.Len())
		}
	})
}
