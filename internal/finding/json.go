package finding

import (
	"bufio"
	"bytes"
	_ "embed" // for the JSON Schema of the report document
	"encoding/json"
	"fmt"
	"io"
	"strings"
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
//
// The findings are streamed one by one into the document's frame (the rest
// of the report, encoded in memory first): a posture scan of 10,000
// Deployments has 100,000 findings and a 180 MB document, which encoding in
// one piece held in memory twice over.
func writeJSON(w io.Writer, p *Report) error {
	// The one value of a finding encoding/json refuses is a time it cannot
	// write: refuse it before the first byte, not half-way through.
	for i := range p.Findings {
		if e := p.Findings[i].Exception; e != nil {
			if _, err := e.Expires.MarshalJSON(); err != nil {
				return fmt.Errorf("finding %s: exception expiry: %w", p.Findings[i].ID, err)
			}
		}
	}
	frame := *p
	frame.Findings = []Finding{}
	var head bytes.Buffer
	if err := newJSONEncoder(&head, "").Encode(&frame); err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	findings := func(dst []byte, prefix string, i int) ([]byte, error) {
		return findingJSON(dst, prefix, &p.Findings[i])
	}
	if err := streamJSONArray(w, head.Bytes(), `"findings": `, 1, len(p.Findings), findings); err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	return nil
}

// newJSONEncoder returns the encoder of every JSON document Palisade writes:
// two-space indentation after prefix, HTML characters as they are.
func newJSONEncoder(w io.Writer, prefix string) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	return enc
}

// streamJSONArray writes frame, an indented document (as newJSONEncoder
// writes it) in which the member named key (with its colon and space) at
// nesting depth is the empty array, with n elements in that array instead:
// encode appends element i, indented after prefix, to dst. Elements are
// encoded one at a time, so only one is held in memory; the bytes are those
// of encoding the whole document at once.
func streamJSONArray(w io.Writer, frame []byte, key string, depth, n int, encode func(dst []byte, prefix string, i int) ([]byte, error)) error {
	indent := strings.Repeat("  ", depth)
	// JSON strings hold no raw newline, so a newline, the indentation and
	// the key can only be the member itself; object keys are unique.
	marker := []byte("\n" + indent + key + "[]")
	if bytes.Count(frame, marker) != 1 {
		return fmt.Errorf("stream %s: member not found once in the document frame", key)
	}
	at := bytes.Index(frame, marker) + len(marker) - 1 // at the "]"
	// bufio.Writer keeps its first error and refuses later writes, so the
	// error is checked after each element, to stop early, and at Flush.
	bw := bufio.NewWriterSize(w, 64<<10)
	_, _ = bw.Write(frame[:at])
	if n > 0 {
		elemIndent := indent + "  "
		var buf []byte
		for i := range n {
			var err error
			if buf, err = encode(buf[:0], elemIndent, i); err != nil {
				return err
			}
			if i > 0 {
				_ = bw.WriteByte(',')
			}
			_ = bw.WriteByte('\n')
			_, _ = bw.WriteString(elemIndent)
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
		_ = bw.WriteByte('\n')
		_, _ = bw.WriteString(indent)
	}
	_, _ = bw.Write(frame[at:])
	return bw.Flush()
}

// encodedJSON returns an encode function for streamJSONArray that encodes
// value(i) with encoding/json.
func encodedJSON(value func(i int) any) func(dst []byte, prefix string, i int) ([]byte, error) {
	var buf bytes.Buffer
	var enc *json.Encoder
	var encPrefix string
	return func(dst []byte, prefix string, i int) ([]byte, error) {
		if enc == nil || prefix != encPrefix {
			enc, encPrefix = newJSONEncoder(&buf, prefix), prefix
		}
		buf.Reset()
		if err := enc.Encode(value(i)); err != nil {
			return dst, err
		}
		return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...), nil
	}
}
