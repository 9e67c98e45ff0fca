package finding

import (
	"bufio"
	"bytes"
	_ "embed" // for the JSON Schema of the report document
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
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
// encoded a batch at a time on every core (encode must be safe for
// concurrent use) and written in order, so only a few batches are held in
// memory; the bytes are those of encoding the whole document at once.
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
	// error is checked after each batch, to stop early, and at Flush.
	bw := bufio.NewWriterSize(w, 64<<10)
	_, _ = bw.Write(frame[:at])
	if n > 0 {
		elemIndent := indent + "  "
		// Element i is written as ",\n" (no comma before the first), the
		// indentation, and its encoding.
		encodeBatch := func(dst []byte, lo, hi int) ([]byte, error) {
			for i := lo; i < hi; i++ {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, '\n')
				dst = append(dst, elemIndent...)
				var err error
				if dst, err = encode(dst, elemIndent, i); err != nil {
					return dst, err
				}
			}
			return dst, nil
		}
		if err := encodeInOrder(n, runtime.GOMAXPROCS(0), encodeBatch, func(b []byte) error {
			_, err := bw.Write(b)
			return err
		}); err != nil {
			return err
		}
		_ = bw.WriteByte('\n')
		_, _ = bw.WriteString(indent)
	}
	_, _ = bw.Write(frame[at:])
	return bw.Flush()
}

// encodeBatchSize is how many elements a worker of encodeInOrder encodes
// at a time: large enough that handing batches over costs nothing, small
// enough that the batches in flight are a few megabytes.
const encodeBatchSize = 256

// encodeInOrder encodes elements [0, n) in batches on up to workers
// goroutines with encode, and passes each batch's bytes to write in
// element order. At most 2×workers batches are encoded ahead of the one
// being written. It returns the first error of encode or write, after
// every goroutine it started has ended.
func encodeInOrder(n, workers int, encode func(dst []byte, lo, hi int) ([]byte, error), write func([]byte) error) error {
	batches := (n + encodeBatchSize - 1) / encodeBatchSize
	if workers <= 1 || batches <= 1 {
		buf, err := encode(nil, 0, n)
		if err != nil {
			return err
		}
		return write(buf)
	}
	type result struct {
		buf []byte
		err error
	}
	ahead := 2 * workers
	slots := make([]chan result, ahead) // batch k's result arrives on slots[k%ahead]
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	free := make(chan []byte, ahead) // written buffers, reused
	var stop atomic.Bool
	var wg sync.WaitGroup
	// A worker takes batch k only when the writer has taken batch
	// k-ahead from the same slot: the turn channel hands out that right.
	turn := make(chan int, ahead)
	for k := range min(ahead, batches) {
		turn <- k
	}
	for range min(workers, batches) {
		wg.Go(func() {
			for k := range turn {
				if stop.Load() {
					slots[k%ahead] <- result{err: errEncodeStopped}
					continue
				}
				var buf []byte
				select {
				case buf = <-free:
				default:
				}
				lo := k * encodeBatchSize
				buf, err := encode(buf[:0], lo, min(lo+encodeBatchSize, n))
				slots[k%ahead] <- result{buf: buf, err: err}
			}
		})
	}
	var firstErr error
	for k := range batches {
		r := <-slots[k%ahead]
		if firstErr == nil {
			firstErr = r.err
			if firstErr == nil {
				firstErr = write(r.buf)
			}
			if firstErr != nil {
				stop.Store(true)
			}
		}
		select {
		case free <- r.buf:
		default:
		}
		if k+ahead < batches {
			turn <- k + ahead
		}
	}
	close(turn)
	wg.Wait()
	return firstErr
}

// errEncodeStopped is what a batch skipped after an earlier error holds.
var errEncodeStopped = errors.New("encoding stopped")

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
