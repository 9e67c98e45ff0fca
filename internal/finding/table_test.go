package finding

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func renderTable(t *testing.T, r *Report, color bool) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, FormatTable, r, WriteOptions{Color: color}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// sgr matches the colour sequences the table writer itself emits.
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// TestTableColorOnlyAddsSGR checks, for every case, that colour output is
// the plain output plus SGR sequences and nothing else, and that plain output
// has no escape byte at all, hostile input included.
func TestTableColorOnlyAddsSGR(t *testing.T) {
	for _, tc := range append(testCases(), testCase{"rich", richReport()}) {
		t.Run(tc.name, func(t *testing.T) {
			plain := renderTable(t, tc.report, false)
			color := renderTable(t, tc.report, true)
			assertTerminalSafe(t, plain)
			if !strings.Contains(color, "\x1b[") && len(tc.report.Findings) > 0 {
				t.Error("colour output has no colour")
			}
			if got := sgr.ReplaceAllString(color, ""); got != plain {
				t.Errorf("colour output minus SGR differs from plain output:\n%s\n---\n%s", got, plain)
			}
			if n, m := strings.Count(color, "\x1b[0m"), len(sgr.FindAllString(color, -1)); 2*n != m {
				t.Errorf("%d resets for %d SGR sequences: colour left open", n, m-n)
			}
		})
	}
}

// assertTerminalSafe fails if out holds anything a terminal would interpret
// other than newlines: C0/C1 controls, DEL, bidi and other format characters.
func assertTerminalSafe(t *testing.T, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Error("table output is not valid UTF-8")
	}
	for i, r := range out {
		if r == '\n' {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200b || r == 0xfeff {
			t.Fatalf("table output has %U at byte %d: %q", r, i, out[max(0, i-20):min(len(out), i+20)])
		}
	}
}

// TestTableCannotBeForged checks that hostile strings cannot add lines: each
// finding is one row, and only the real summary line starts with "Summary:".
func TestTableCannotBeForged(t *testing.T) {
	r := NewReport(testTool(), "t", testNow(), hostileFindings())
	out := renderTable(t, r, false)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var summaries int
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "Summary:") {
			summaries++
		}
		if n := utf8.RuneCountInString(l); n > 400 {
			t.Errorf("line of %d runes: long strings not truncated: %.80q…", n, l)
		}
	}
	if summaries != 1 || !strings.HasPrefix(lines[len(lines)-1], "Summary: 5 open (1 critical, 1 high, 1 medium, 2 low, 0 info, 0 unknown), 1 excepted.") {
		t.Errorf("summary lines = %d, last line %q", summaries, lines[len(lines)-1])
	}
	rows := 0
	for _, l := range lines {
		for _, sev := range Severities() {
			if strings.HasPrefix(l, "  "+sev.String()+" ") {
				rows++
			}
		}
	}
	if rows != len(r.Findings) {
		t.Errorf("%d finding rows for %d findings", rows, len(r.Findings))
	}
}

func TestTableSections(t *testing.T) {
	out := renderTable(t, NewReport(testTool(), "deploy/", testNow(), mixedFindings()), false)
	wantInOrder := []string{
		"Target: deploy/",
		"SEVERITY  RULE",
		"\nCRITICAL (1)\n", "\nHIGH (3)\n", "\nMEDIUM (1)\n", "\nLOW (1)\n", "\nINFO (1)\n", "\nUNKNOWN (1)\n",
		"\nEXCEPTED (3)\n", "OWNER", "EXPIRES", "REASON",
		"platform-team@acme.example", "2025-09-30 ",
		"2025-01-31 (expired)",
		"Summary: 8 open (1 critical, 3 high, 1 medium, 1 low, 1 info, 1 unknown), 3 excepted.\n",
	}
	rest := out
	for _, w := range wantInOrder {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("table lacks %q (in order) in:\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
	if !strings.Contains(out, "deploy/api.yaml:31:11") || !strings.Contains(out, "deploy/worker.yaml ") {
		t.Error("location column lacks file:line:column or file alone")
	}
	// Excepted findings appear only in their section.
	if i := strings.Index(out, "EXCEPTED"); strings.Contains(out[:i], "posture/host-path") {
		t.Error("excepted finding listed among open findings")
	}
}

func TestTableEmptyAndPartial(t *testing.T) {
	empty := renderTable(t, NewReport(testTool(), "", testNow(), nil), false)
	if want := "No findings.\n\nSummary: 0 open (0 critical, 0 high, 0 medium, 0 low, 0 info, 0 unknown), 0 excepted.\n"; empty != want {
		t.Errorf("empty report:\n%q\nwant\n%q", empty, want)
	}
	partial := renderTable(t, partialReport(), false)
	for _, w := range []string{"PARTIAL RESULT", "  - read layer", "(partial result)."} {
		if !strings.Contains(partial, w) {
			t.Errorf("partial report lacks %q:\n%s", w, partial)
		}
	}
}
