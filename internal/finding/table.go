package finding

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/palisade-sec/palisade/internal/parallel"
)

// Column limits, in runes. A message from a hostile manifest can be megabytes
// long; the table shows the start of it and JSON/SARIF carry the whole text.
const (
	maxRule     = 60
	maxResource = 80
	maxLocation = 60
	maxMessage  = 160
	maxOwner    = 40
	maxReason   = 100
	maxError    = 300
	maxTarget   = 200
)

// ANSI SGR parameters. Colour marks severity only; the text says the same
// thing without it, so output read without colour loses nothing.
const (
	sgrBold    = "1"
	sgrDim     = "2"
	sgrWarning = "1;33"
)

// severitySGR returns the colour of severity s.
func severitySGR(s Severity) string {
	switch s {
	case SeverityCritical:
		return "97;41" // white on red
	case SeverityHigh:
		return "91"
	case SeverityMedium:
		return "33"
	case SeverityLow:
		return "36"
	case SeverityInfo:
		return "34"
	}
	return "35"
}

// tableLine is one output line. Rows (cells set) are aligned with the other
// rows of their section: align gives them a layout, by which they are
// padded as they are written, or, for rows of differing lengths, their
// text from text/tabwriter. Other lines are printed as they are. Colour is
// applied after alignment, so escape bytes never upset the column widths:
// sgr colours the whole line, or only the first cell of a row when
// firstCell is set (tabwriter's rows record its byte range in from, to).
type tableLine struct {
	text      string
	cells     []string
	layout    *tableLayout
	sgr       string
	firstCell bool
	from, to  int
}

// tableLayout is how align pads the rows of a section: each starts with
// indent and each cell but the last is padded to its column's width, in
// runes (the indent counts in the first).
type tableLayout struct {
	indent string
	widths []int
}

// cellWidth is the width of cell j, c, in runes; the first counts the
// indent.
func (l *tableLayout) cellWidth(j int, c string) int {
	w := runeCount(c)
	if j == 0 {
		w += runeCount(l.indent)
	}
	return w
}

// widen makes each column but the last as wide as its cell in cells and
// the padding after it.
func (l *tableLayout) widen(cells []string) {
	for j := range l.widths {
		l.widths[j] = max(l.widths[j], l.cellWidth(j, cells[j])+tablePadding)
	}
}

// writeTable writes p, already prepared, as the human table. Each section
// is written as soon as it is rendered: a table of 100,000s of findings is
// not gathered into one slice of lines first.
func writeTable(w io.Writer, p *Report, opts WriteOptions) error {
	// write writes n lines, rendered in batches on every core.
	write := func(n int, render func(dst []byte, lo, hi int) []byte) error {
		encode := func(dst []byte, lo, hi int) ([]byte, error) { return render(dst, lo, hi), nil }
		return encodeInOrder(n, runtime.GOMAXPROCS(0), encode, func(b []byte) error {
			if _, err := w.Write(b); err != nil {
				return fmt.Errorf("write table: %w", err)
			}
			return nil
		})
	}
	emit := func(lines ...tableLine) error {
		return write(len(lines), func(dst []byte, lo, hi int) []byte {
			for i := lo; i < hi; i++ {
				dst = appendTableLine(dst, &lines[i], opts.Color)
			}
			return dst
		})
	}
	// section emits what render returns, or its error.
	section := func(render func() ([]tableLine, error)) error {
		lines, err := render()
		if err != nil {
			return err
		}
		return emit(lines...)
	}
	if p.Target != "" {
		if err := emit(tableLine{text: "Target: " + truncate(cleanText(p.Target), maxTarget)}, tableLine{}); err != nil {
			return err
		}
	}

	var open, excepted []*Finding
	for i := range p.Findings {
		if f := &p.Findings[i]; f.Open() {
			open = append(open, f)
		} else {
			excepted = append(excepted, f)
		}
	}
	var err error
	switch {
	case len(p.Findings) == 0:
		err = emit(tableLine{text: "No findings."}, tableLine{})
	case len(open) == 0:
		err = emit(tableLine{text: "No open findings."}, tableLine{})
	default:
		if err = writeOpenSection(write, open, p.Summary, opts.Color); err == nil {
			err = emit(tableLine{})
		}
	}
	if err != nil {
		return err
	}
	if p.Exposed != nil {
		if err := section(func() ([]tableLine, error) { return exposedSection(p.Exposed) }); err != nil {
			return err
		}
	}
	if len(excepted) > 0 {
		if err := section(func() ([]tableLine, error) { return exceptedSection(excepted, p.GeneratedAt) }); err != nil {
			return err
		}
	}
	if err := emit(partialLines(p)...); err != nil {
		return err
	}
	if p.Scores != nil {
		if err := emit(tableLine{text: scoreText(p.Scores)}); err != nil {
			return err
		}
	}
	return emit(tableLine{text: summaryText(p.Summary, p.Partial), sgr: sgrBold})
}

// writeOpenSection writes the open findings with write: one column header,
// then one group per severity, most severe first, each under a header line
// with its count. The rows are rendered twice, on every core: for the
// columns' widths, then to be written. Keeping them in between (100,000s of
// rows in a large scan) held tens of megabytes while the collector worked
// near the memory limit. The rows are padded as align pads them.
func writeOpenSection(write func(n int, render func(dst []byte, lo, hi int) []byte) error, open []*Finding, sum Summary, color bool) error {
	const indent = "  "
	header := []string{"SEVERITY", "RULE", "RESOURCE", "LOCATION", "MESSAGE"}
	layout := &tableLayout{indent: indent, widths: make([]int, len(header)-1)}
	layout.widen(header)
	var mu sync.Mutex
	parallel.For(len(open), minPerWorker, func(lo, hi int) {
		part := &tableLayout{indent: indent, widths: make([]int, len(layout.widths))}
		for i := lo; i < hi; i++ {
			cells := openCells(open[i])
			part.widen(cells[:])
		}
		mu.Lock()
		defer mu.Unlock()
		for j, w := range part.widths {
			layout.widths[j] = max(layout.widths[j], w)
		}
	})
	return write(len(open), func(dst []byte, lo, hi int) []byte {
		for i := lo; i < hi; i++ {
			f := open[i]
			if i == 0 {
				dst = appendTableLine(dst, &tableLine{cells: header, layout: layout, sgr: sgrBold}, color)
			}
			if i == 0 || f.Severity != open[i-1].Severity {
				if i > 0 {
					dst = appendTableLine(dst, &tableLine{}, color)
				}
				text := fmt.Sprintf("%s (%d)", strings.ToUpper(f.Severity.String()), sum.OpenBySeverity.Get(f.Severity))
				dst = appendTableLine(dst, &tableLine{text: text, sgr: "1;" + severitySGR(f.Severity)}, color)
			}
			cells := openCells(f)
			dst = appendTableLine(dst, &tableLine{cells: cells[:], layout: layout, sgr: severitySGR(f.Severity), firstCell: true}, color)
		}
		return dst
	})
}

// openCells are the cells of an open finding's row.
func openCells(f *Finding) [5]string {
	return [5]string{
		f.Severity.String(),
		truncate(cleanText(f.RuleID), maxRule),
		resourceCell(f.Resource),
		locationCell(f.Resource),
		truncate(cleanText(messageOf(f)), maxMessage),
	}
}

// exceptedSection renders the excepted findings with who accepted the risk,
// until when and why, so that a reader can challenge an exception.
func exceptedSection(excepted []*Finding, now time.Time) ([]tableLine, error) {
	lines := []tableLine{
		{text: fmt.Sprintf("EXCEPTED (%d)", len(excepted)), sgr: sgrBold},
		{cells: []string{"SEVERITY", "RULE", "RESOURCE", "LOCATION", "OWNER", "EXPIRES", "REASON"}, sgr: sgrBold},
	}
	for _, f := range excepted {
		owner, expires, reason := "-", "-", "-"
		if e := f.Exception; e != nil {
			owner = orDash(truncate(cleanText(e.Owner), maxOwner))
			expires = expiryCell(e.Expires, now)
			reason = orDash(truncate(cleanText(e.Reason), maxReason))
		}
		lines = append(lines, tableLine{
			cells: []string{
				f.Severity.String(),
				truncate(cleanText(f.RuleID), maxRule),
				resourceCell(f.Resource),
				locationCell(f.Resource),
				owner,
				expires,
				reason,
			},
			sgr: sgrDim,
		})
	}
	if err := align(lines, "  "); err != nil {
		return nil, err
	}
	return append(lines, tableLine{}), nil
}

// partialLines says that the result is incomplete, and why.
func partialLines(p *Report) []tableLine {
	if !p.Partial {
		return nil
	}
	lines := []tableLine{{text: "PARTIAL RESULT: the scan did not complete; findings may be missing.", sgr: sgrWarning}}
	for _, e := range p.Errors {
		lines = append(lines, tableLine{text: "  - " + orDash(truncate(cleanText(e), maxError))})
	}
	return append(lines, tableLine{})
}

// summaryText is the final line: counts of open findings per severity, then
// excepted ones. Every severity is listed, zero or not, so scripts and eyes
// find each count in the same place.
func summaryText(s Summary, partial bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Summary: %d open (", s.Open)
	for i, sev := range Severities() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s", s.OpenBySeverity.Get(sev), sev)
	}
	fmt.Fprintf(&b, "), %d excepted", s.Excepted)
	if partial {
		b.WriteString(" (partial result)")
	}
	b.WriteString(".")
	return b.String()
}

// scoreText is the one-line score: overall, then per framework with the
// controls that pass of those evaluated. A scan that judged nothing (a
// path that does not exist, a file with no Kubernetes objects) has no
// score rather than 100%.
func scoreText(s *Scores) string {
	if s.Evaluated == 0 {
		return "Score: n/a (no resource was evaluated)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Score: %s overall", pctText(s.Overall))
	for i := range s.Frameworks {
		fw := &s.Frameworks[i]
		if fw.ControlsEvaluated == 0 {
			fmt.Fprintf(&b, "; %s n/a (%d controls not evaluated)", cleanText(fw.Framework), len(fw.Controls))
			continue
		}
		fmt.Fprintf(&b, "; %s %s (%d/%d controls pass", cleanText(fw.Framework), pctText(fw.Score), fw.ControlsPassed, fw.ControlsEvaluated)
		if n := fw.ControlsNotEvaluated(); n > 0 {
			fmt.Fprintf(&b, ", %d not evaluated", n)
		}
		b.WriteString(")")
	}
	return b.String()
}

func pctText(f float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(f, 'f', 1, 64), ".0") + "%"
}

// align lays out the rows in lines, each prefixed with indent. Rows with
// as many cells as each other (every section's are) are padded as they are
// written (appendTableLine), as text/tabwriter would pad them (a column is
// as wide as its widest cell, in runes, plus two spaces; the last cell is
// not padded), without tabwriter's copy of every cell or a string per
// row: a table of 100,000 findings made those the largest things a table
// report held.
func align(lines []tableLine, indent string) error {
	var layout *tableLayout // made at the first row
	for i := range lines {
		l := &lines[i]
		if l.cells == nil {
			continue
		}
		if len(l.cells) == 0 {
			return alignTabwriter(lines, indent)
		}
		if layout == nil {
			layout = &tableLayout{indent: indent, widths: make([]int, len(l.cells)-1)}
		} else if len(l.cells)-1 != len(layout.widths) {
			return alignTabwriter(lines, indent)
		}
		layout.widen(l.cells)
	}
	for i := range lines {
		if lines[i].cells != nil {
			lines[i].layout = layout
		}
	}
	return nil
}

// tablePadding is the space between two columns.
const tablePadding = 2

// alignTabwriter is align for rows of differing lengths, by text/tabwriter.
func alignTabwriter(lines []tableLine, indent string) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, tablePadding, ' ', 0)
	for _, l := range lines {
		if l.cells != nil {
			// Cells are cleaned: they hold no tab, newline or tabwriter escape.
			fmt.Fprintf(tw, "%s%s\n", indent, strings.Join(l.cells, "\t"))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("align table: %w", err)
	}
	out := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	n := 0
	for i := range lines {
		if lines[i].cells == nil {
			continue
		}
		if n >= len(out) {
			return fmt.Errorf("align table: %d rows in, %d lines out", n+1, len(out))
		}
		if lines[i].firstCell {
			lines[i].from = len(indent)
			lines[i].to = len(indent) + len(lines[i].cells[0])
		}
		lines[i].text, lines[i].cells = out[n], nil
		n++
	}
	return nil
}

// appendTableLine appends l, coloured when color is set, and a newline to
// buf.
func appendTableLine(buf []byte, l *tableLine, color bool) []byte {
	color = color && l.sgr != ""
	if l.layout == nil {
		text := l.text
		if !color || text == "" {
			return append(append(buf, text...), '\n')
		}
		start, end := 0, len(text)
		if l.to > l.from && l.to <= len(text) {
			start, end = l.from, l.to
		}
		buf = append(buf, text[:start]...)
		buf = appendSGR(buf, l.sgr, text[start:end])
		return append(append(buf, text[end:]...), '\n')
	}
	// An empty first cell has nothing to colour: the line is, as for
	// tabwriter's rows.
	whole := color && (!l.firstCell || len(l.cells) == 0 || l.cells[0] == "")
	if whole {
		buf = append(append(append(buf, "\x1b["...), l.sgr...), 'm')
	}
	buf = append(buf, l.layout.indent...)
	for j, c := range l.cells {
		if j == 0 && color && !whole {
			buf = appendSGR(buf, l.sgr, c)
		} else {
			buf = append(buf, c...)
		}
		if j < len(l.layout.widths) {
			buf = appendSpaces(buf, l.layout.widths[j]-l.layout.cellWidth(j, c))
		}
	}
	if whole {
		buf = append(buf, "\x1b[0m"...)
	}
	return append(buf, '\n')
}

// appendSpaces appends n spaces (none when n ≤ 0).
func appendSpaces(buf []byte, n int) []byte {
	const spaces = "                                                                "
	for n > 0 {
		k := min(n, len(spaces))
		buf, n = append(buf, spaces[:k]...), n-k
	}
	return buf
}

// appendSGR appends text coloured by the SGR parameters sgr.
func appendSGR(buf []byte, sgr, text string) []byte {
	buf = append(append(append(buf, "\x1b["...), sgr...), 'm')
	return append(append(buf, text...), "\x1b[0m"...)
}

// resourceCell shows what the finding is about, without the file (that is in
// the location column).
func resourceCell(r Resource) string {
	return orDash(truncate(cleanText(r.objectKey()), maxResource))
}

// locationCell shows file:line:column, as much of it as is known.
func locationCell(r Resource) string {
	loc := r.location()
	if loc == "" {
		return "-"
	}
	return truncateLeft(cleanText(loc), maxLocation)
}

// location returns "file:line:column", "file:line" or "file", or "" when the
// file is unknown.
func (r Resource) location() string {
	if r.File == "" {
		return ""
	}
	loc := r.File
	if r.Line > 0 {
		loc += ":" + strconv.Itoa(r.Line)
		if r.Column > 0 {
			loc += ":" + strconv.Itoa(r.Column)
		}
	}
	return loc
}

// messageOf returns the text that best describes f: its message, else its
// title, else its rule.
func messageOf(f *Finding) string {
	for _, s := range []string{f.Message, f.Title} {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return f.RuleID
}

// expiryCell shows an exception's expiry date, marked when it has passed at
// the time of the report.
func expiryCell(expires, now time.Time) string {
	if expires.IsZero() {
		return "never"
	}
	s := expires.UTC().Format(time.DateOnly)
	if !now.IsZero() && !expires.After(now) {
		s += " (expired)"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
