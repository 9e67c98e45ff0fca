package finding

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"table", FormatTable, false},
		{"JSON", FormatJSON, false},
		{" sarif ", FormatSARIF, false},
		{"", "", true},
		{"xml", "", true},
		{"cyclonedx", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseFormat(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseFormat(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if err != nil {
				if !errors.Is(err, ErrUnknownFormat) {
					t.Errorf("error %v does not wrap ErrUnknownFormat", err)
				}
				if !strings.Contains(err.Error(), "table, json, sarif") {
					t.Errorf("error %q does not list the valid formats", err)
				}
			}
		})
	}
}

func TestFormatsParse(t *testing.T) {
	for _, f := range Formats() {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
}

// TestWriteRejects checks that Write refuses reports it cannot render
// faithfully, and then writes nothing at all.
func TestWriteRejects(t *testing.T) {
	ok := func() []Finding { return []Finding{{RuleID: "r", Severity: SeverityLow, Message: "m"}} }
	tests := []struct {
		name   string
		format Format
		report func() *Report
		is     error
	}{
		{"nil report", FormatTable, func() *Report { return nil }, nil},
		{"unknown format", Format("xml"), func() *Report { return NewReport(testTool(), "t", testNow(), ok()) }, ErrUnknownFormat},
		{"invalid severity", FormatJSON, func() *Report {
			fs := ok()
			fs[0].Severity = 42
			return NewReport(testTool(), "t", testNow(), fs)
		}, nil},
		{"empty rule", FormatSARIF, func() *Report {
			fs := ok()
			fs[0].RuleID = ""
			return NewReport(testTool(), "t", testNow(), fs)
		}, nil},
		{"negative line", FormatSARIF, func() *Report {
			fs := ok()
			fs[0].Resource.Line = -3
			return NewReport(testTool(), "t", testNow(), fs)
		}, nil},
		{"excepted without exception", FormatTable, func() *Report {
			fs := ok()
			fs[0].Status = StatusExcepted
			return NewReport(testTool(), "t", testNow(), fs)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tt.format, tt.report(), WriteOptions{})
			if err == nil {
				t.Fatal("Write succeeded, want error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Write error %v does not wrap %v", err, tt.is)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWritePropagatesWriterError(t *testing.T) {
	for _, f := range Formats() {
		err := Write(failingWriter{}, f, NewReport(testTool(), "t", testNow(), nil), WriteOptions{})
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("Write(%s) to a failing writer = %v, want the writer's error", f, err)
		}
	}
}

// TestWriteDeterministic checks that rendering twice, or rendering a report
// whose findings arrive in another order, gives the same bytes.
func TestWriteDeterministic(t *testing.T) {
	fs := mixedFindings()
	reversed := mixedFindings()
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	for _, gf := range goldenFormats() {
		var a, b bytes.Buffer
		if err := Write(&a, gf.format, NewReport(testTool(), "t", testNow(), fs), gf.opts); err != nil {
			t.Fatal(err)
		}
		if err := Write(&b, gf.format, NewReport(testTool(), "t", testNow(), reversed), gf.opts); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: output depends on input order", gf.name)
		}
	}
}
