package kube

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"sync/atomic"

	"github.com/palisade-sec/palisade/internal/parallel"
	"go.yaml.in/yaml/v3"
)

// Parsing YAML is most of what reading manifests costs, and yaml.v3 parses
// on one core (fastParse, fastyaml.go, takes most documents off it). A
// multi-document stream splits at its "---" lines into pieces that parse
// independently: YAML forbids a line starting with "---" and a blank inside
// any scalar (c-forbidden), so such a line always starts a document,
// whatever precedes it. Large files are decoded that way on every core;
// the result is the sequential decoder's, object for object and line for
// line (FuzzDecodeChunked compares them).

// minChunkedSize is the smallest input worth splitting: below it the
// goroutines cost more than they save.
const minChunkedSize = 256 << 10

// chunk is a piece of a YAML stream: whole documents, starting at byte
// start, which is on line firstLine (1-based) of the stream.
type chunk struct {
	data      []byte
	firstLine int
}

// splitDocuments cuts data into at most n pieces of about equal size, each
// starting at a "---" line. It returns nil when data should not be split
// (see splittable).
func splitDocuments(data []byte, n int) []chunk {
	if n < 2 || !splittable(data) {
		return nil
	}
	var chunks []chunk
	start, line := 0, 1
	for len(chunks) < n-1 {
		target := start + (len(data)-start)/(n-len(chunks))
		at := nextDocumentStart(data, max(target, start+1))
		if at < 0 {
			break
		}
		chunks = append(chunks, chunk{data: data[start:at], firstLine: line})
		line += bytes.Count(data[start:at], []byte{'\n'})
		start = at
	}
	if len(chunks) == 0 {
		return nil
	}
	return append(chunks, chunk{data: data[start:], firstLine: line})
}

// nextDocumentStart returns the offset of the first line at or after from
// that starts with "---" followed by a blank or the end of the line, or -1.
func nextDocumentStart(data []byte, from int) int {
	// Start at the beginning of the line after from (from itself when it
	// begins a line).
	if from > 0 && data[from-1] != '\n' {
		i := bytes.IndexByte(data[from:], '\n')
		if i < 0 {
			return -1
		}
		from += i + 1
	}
	for from < len(data) {
		rest := data[from:]
		if bytes.HasPrefix(rest, []byte("---")) && (len(rest) == 3 || isBlank(rest[3])) {
			return from
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return -1
		}
		from += i + 1
	}
	return -1
}

// splittable reports whether the pieces of data parse as the whole does.
// Not so when it has directives ("%YAML", "%TAG": they belong to the
// document after them), is UTF-16 (only the first piece would have the
// byte order mark), or has line breaks other than \n and \r\n: yaml.v3
// also counts a lone \r, NEL, LS and PS as line breaks, and the line
// numbers of later pieces are counted in \n.
func splittable(data []byte) bool {
	switch {
	case len(data) == 0, data[0] == '%', bytes.Contains(data, []byte("\n%")),
		bytes.HasPrefix(data, []byte{0xfe, 0xff}), bytes.HasPrefix(data, []byte{0xff, 0xfe}),
		bytes.Count(data, []byte{'\r'}) != bytes.Count(data, []byte("\r\n")),
		bytes.Contains(data, []byte("\u0085")), bytes.Contains(data, []byte("\u2028")), bytes.Contains(data, []byte("\u2029")):
		return false
	}
	return true
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// chunkResult is what decoding one chunk produced.
type chunkResult struct {
	objs []*Object
	errs []error
}

// errChunkFallback stops a chunked decode that must be redone sequentially.
var errChunkFallback = errors.New("decode the stream sequentially")

// decodeChunks decodes the chunks of file on up to workers goroutines and
// returns the objects and errors in stream order. It returns
// errChunkFallback when the stream must be decoded sequentially to give
// the sequential result: a YAML syntax error (which ends the stream there,
// and whose message names the line the sequential parser saw), or more
// documents than lim allows.
func decodeChunks(ctx context.Context, file string, chunks []chunk, lim Limits, budget, workers int) ([]*Object, []error, error) {
	results := make([]chunkResult, len(chunks))
	var docs atomic.Int64
	var fallback atomic.Bool
	// A chunk that needs the fallback stops the others through chunkCtx.
	chunkCtx, stop := context.WithCancel(ctx)
	defer stop()
	_ = parallel.Each(chunkCtx, len(chunks), workers, 1, func(i int) {
		res, err := decodeChunk(chunkCtx, file, chunks[i], lim, budget, &docs)
		if errors.Is(err, errChunkFallback) {
			fallback.Store(true)
			stop()
		}
		results[i] = res
	})
	switch {
	case ctx.Err() != nil:
		return nil, nil, ctx.Err()
	case fallback.Load():
		return nil, nil, errChunkFallback
	}
	var objs []*Object
	var errs []error
	for _, r := range results {
		objs = append(objs, r.objs...)
		errs = append(errs, r.errs...)
	}
	return objs, errs, nil
}

// decodeChunk parses and converts the documents of one chunk, with lines
// numbered as in the whole stream, until ctx is done. docs counts
// documents over all chunks.
func decodeChunk(ctx context.Context, file string, c chunk, lim Limits, budget int, docs *atomic.Int64) (chunkResult, error) {
	d := &docDecoder{file: file, lim: lim, budget: budget, keys: newLineKeys()}
	line := c.firstLine
	for start := 0; start < len(c.data); {
		if err := ctx.Err(); err != nil {
			return chunkResult{}, err
		}
		end := nextDocumentStart(c.data, start+1)
		if end < 0 {
			end = len(c.data)
		}
		text := c.data[start:end]
		before := d.docs
		done, parsed := d.fastObject(text, line)
		if !done {
			root, err := parseDocument(text, line, parsed)
			if err != nil {
				return chunkResult{}, err
			}
			if root != nil {
				d.document(root, 0)
			}
		}
		start, line = end, line+bytes.Count(text, []byte{'\n'})
		// List items count as documents; the limit is over the stream.
		if docs.Add(int64(d.docs-before)) > int64(lim.MaxDocuments) {
			return chunkResult{}, errChunkFallback
		}
	}
	return chunkResult{objs: d.objs, errs: d.errs}, nil
}

// parseDocument parses text, one document of a chunk starting on line
// line of the stream: with fastParse when it can (and may: fast), else
// with yaml.v3. It returns nil for a document with no content, and
// errChunkFallback for one yaml.v3 refuses or reads as more than one
// document.
func parseDocument(text []byte, line int, fast bool) (*yaml.Node, error) {
	if fast {
		if root, ok := fastNode(text, line); ok {
			return root, nil
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(text))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	var more yaml.Node
	if err != nil || !errors.Is(dec.Decode(&more), io.EOF) {
		return nil, errChunkFallback
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	shiftLines(root, line-1)
	return root, nil
}

// shiftLines adds off to the line of n and every node under it. Aliased
// nodes appear once in the tree (an alias node points at them), so each
// node is shifted once.
func shiftLines(n *yaml.Node, off int) {
	if off == 0 {
		return
	}
	n.Line += off
	for _, c := range n.Content {
		shiftLines(c, off)
	}
}

// decodeWorkers is how many goroutines decode a large stream (here, as
// decode.go's "runtime" is apimachinery's).
func decodeWorkers() int { return runtime.GOMAXPROCS(0) }
