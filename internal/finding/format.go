package finding

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Format is an output format for a Report.
type Format string

// The output formats.
const (
	FormatTable Format = "table" // aligned text for people, grouped by severity
	FormatJSON  Format = "json"  // the versioned JSON document, see docs/output-json.md
	FormatSARIF Format = "sarif" // SARIF 2.1.0, for GitHub code scanning and other SARIF viewers
	FormatJUnit Format = "junit" // JUnit XML, for CI test reporters: a suite per rule, a failing case per finding
	FormatHTML  Format = "html"  // a self-contained HTML compliance report with scores, for people and auditors
)

// ErrUnknownFormat is returned (wrapped) by ParseFormat and Write for a format
// name they do not know; the CLI maps it to a usage error.
var ErrUnknownFormat = errors.New("unknown output format")

// Formats lists every format, in the order help text should show them.
func Formats() []Format {
	return []Format{FormatTable, FormatJSON, FormatSARIF, FormatJUnit, FormatHTML}
}

// ParseFormat parses a format name, case-insensitively.
func ParseFormat(s string) (Format, error) {
	want := Format(strings.ToLower(strings.TrimSpace(s)))
	for _, f := range Formats() {
		if f == want {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w %q (valid: %s)", ErrUnknownFormat, s, formatList())
}

func formatList() string {
	names := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// WriteOptions tunes a writer. The zero value is plain output.
type WriteOptions struct {
	// Color enables ANSI colours in the table format. The CLI sets it when
	// stdout is a terminal and --no-color is absent; other formats ignore it.
	Color bool
}

// Write renders r to w in format f. An invalid report writes nothing: it is
// checked before the first byte. JSON and SARIF are then streamed through a
// buffer, finding by finding, and the table once its columns are aligned,
// so that a report with 100,000 findings is never held in memory as a whole
// document; a writer that fails part-way leaves a truncated document, as a
// full disk would have anyway. JUnit and HTML are rendered in memory first.
// Rendering is deterministic: the same report gives the same bytes.
func Write(w io.Writer, f Format, r *Report, opts WriteOptions) error {
	p, err := r.prepared()
	if err != nil {
		return fmt.Errorf("write %s report: %w", f, err)
	}
	switch f {
	case FormatJSON:
		err = writeJSON(w, p)
	case FormatSARIF:
		err = writeSARIF(w, p)
	case FormatTable:
		bw := bufio.NewWriterSize(w, 64<<10)
		if err = writeTable(bw, p, opts); err == nil {
			err = bw.Flush()
		}
	case FormatJUnit, FormatHTML:
		err = writeInMemory(w, f, p)
	default:
		return fmt.Errorf("write report: %w %q (valid: %s)", ErrUnknownFormat, string(f), formatList())
	}
	if err != nil {
		return fmt.Errorf("write %s report: %w", f, err)
	}
	return nil
}

// writeInMemory renders p in format f into memory, then writes it to w.
func writeInMemory(w io.Writer, f Format, p *Report) error {
	var buf bytes.Buffer
	var err error
	switch f {
	case FormatJUnit:
		err = writeJUnit(&buf, p)
	case FormatHTML:
		err = writeHTML(&buf, p)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}
