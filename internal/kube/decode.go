package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	"go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	kjson "sigs.k8s.io/json"
)

// Limits bound what the decoder accepts, so that hostile input cannot
// exhaust memory. The zero value means the defaults.
type Limits struct {
	// MaxFileSize is the largest file read, in bytes. Default 64 MiB.
	MaxFileSize int64
	// MaxDocuments is the most documents (List items included) per file.
	// Default 100,000.
	MaxDocuments int
}

// The default limits.
const (
	DefaultMaxFileSize  = 64 << 20
	DefaultMaxDocuments = 100_000
)

// spaceCommentedMarkers returns data with a space after each "---" that
// starts a line and is followed by a comment ("---# Permission to …").
// YAML wants a blank after a document marker, but kubectl's reader
// (apimachinery's YAMLReader) and Helm's SplitManifests split documents
// there, and a chart whose template trims the newline after "---"
// (cert-manager's rbac.yaml) renders such lines: read as YAML, the two
// documents became one that did not parse. Lines keep their numbers; data
// is copied only when it holds such a line.
func spaceCommentedMarkers(data []byte) []byte {
	if !bytes.HasPrefix(data, []byte("---#")) && !bytes.Contains(data, []byte("\n---#")) {
		return data
	}
	out := make([]byte, 0, len(data)+8)
	for line := range bytes.Lines(data) {
		if bytes.HasPrefix(line, []byte("---#")) {
			out = append(append(out, "--- "...), line[3:]...)
			continue
		}
		out = append(out, line...)
	}
	return out
}

// FileSizeLimit is MaxFileSize, or the default when it is unset.
func (l Limits) FileSizeLimit() int64 { return l.withDefaults().MaxFileSize }

func (l Limits) withDefaults() Limits {
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultMaxFileSize
	}
	if l.MaxDocuments <= 0 {
		l.MaxDocuments = DefaultMaxDocuments
	}
	return l
}

// Decode decodes every object in data, the contents of file (a name used in
// errors and sources). It returns the objects it could decode and an error
// joining one *InputError per bad document: a bad document does not hide the
// good ones around it, except after a YAML syntax error, which ends the
// stream. JSON (a single object, or a stream of them) is accepted too.
func Decode(ctx context.Context, file string, data []byte, lim Limits) ([]*Object, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxFileSize {
		return nil, inputErr(file, 0, "file is larger than %d bytes", lim.MaxFileSize)
	}
	data = spaceCommentedMarkers(data)
	budget := 8*len(data) + 1<<20
	if !jsonLike(data) && splittable(data) {
		// Documents are parsed one at a time (fastParse, else yaml.v3),
		// large streams on every core; anything that needs the whole
		// stream's parse — a syntax error, too many documents — is redone
		// by decodeSequential, which gives the same result by construction.
		chunks := []chunk{{data: data, firstLine: 1}}
		workers := decodeWorkers()
		if workers > 1 && len(data) >= minChunkedSize {
			if split := splitDocuments(data, 4*workers); split != nil {
				chunks = split
			}
		}
		objs, errs, err := decodeChunks(ctx, file, chunks, lim, budget, workers)
		if !errors.Is(err, errChunkFallback) {
			if err != nil {
				return nil, fmt.Errorf("decode %s: %w", quoteFile(file), err)
			}
			return objs, errors.Join(errs...)
		}
	}
	return decodeSequential(ctx, file, data, lim, budget)
}

// decodeSequential is Decode on one parsing goroutine.
func decodeSequential(ctx context.Context, file string, data []byte, lim Limits, budget int) ([]*Object, error) {
	d := &docDecoder{file: file, lim: lim, budget: budget, keys: newLineKeys()}
	// Parsing YAML is sequential, but turning a parsed document into a
	// typed object is as much work again and needs nothing from the next
	// document: one goroutine converts documents, in order, while this one
	// parses the next. The channel bounds how far parsing runs ahead.
	docs := make(chan *yaml.Node, 32)
	var stop atomic.Bool
	converted := make(chan struct{})
	go func() {
		defer close(converted)
		for n := range docs {
			if !d.tooMany {
				d.document(n, 0)
				stop.Store(d.tooMany)
			}
		}
	}()
	parseErr := parseDocuments(ctx, data, docs, &stop)
	close(docs)
	<-converted
	var syntax *yamlSyntaxError
	switch {
	case errors.As(parseErr, &syntax) && jsonLike(data):
		// yaml.v3 rejects some valid JSON (tabs for indentation,
		// concatenated values): start again as a JSON stream.
		return decodeJSONStream(ctx, file, data, &docDecoder{file: file, lim: lim})
	case errors.As(parseErr, &syntax):
		line := yamlErrLine(syntax.err.Error())
		msg := strings.TrimPrefix(syntax.err.Error(), "yaml: ")
		msg = strings.TrimPrefix(msg, "line "+strconv.Itoa(line)+": ")
		d.errs = append(d.errs, &InputError{File: file, Line: line, Err: fmt.Errorf("parse YAML: %s", msg)})
	case parseErr != nil:
		return d.objs, fmt.Errorf("decode %s: %w", quoteFile(file), parseErr)
	}
	return d.objs, errors.Join(d.errs...)
}

// yamlSyntaxError is a parse error of the YAML stream, which ends it.
type yamlSyntaxError struct{ err error }

func (e *yamlSyntaxError) Error() string { return e.err.Error() }

// parseDocuments sends the root node of every non-empty document of data
// to docs until the stream ends, it fails, ctx is done or stop is set.
func parseDocuments(ctx context.Context, data []byte, docs chan<- *yaml.Node, stop *atomic.Bool) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for !stop.Load() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &yamlSyntaxError{err: err}
		}
		if len(doc.Content) == 0 {
			continue // an empty document between "---" separators
		}
		docs <- doc.Content[0]
	}
	return nil
}

// jsonLike reports whether data starts, after white space, like JSON.
func jsonLike(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

type docDecoder struct {
	file    string
	lim     Limits
	budget  int
	objs    []*Object
	errs    []error
	docs    int
	tooMany bool
	keys    *lineKeys
	// parser and fast are reused from one document to the next.
	parser fastParser
	fast   *jsonSink
}

// document decodes one YAML document (or List item) rooted at n.
func (d *docDecoder) document(n *yaml.Node, depth int) {
	if !d.count(n.Line) {
		return
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // a document holding only comments
	}
	if n.Kind != yaml.MappingNode {
		d.errs = append(d.errs, notObjectErr(d.file, n.Line, "document is not a mapping (a Kubernetes object)"))
		return
	}
	apiVersion, kind := scalarField(n, "apiVersion"), scalarField(n, "kind")
	if kind == "" || apiVersion == "" {
		d.errs = append(d.errs, notObjectErr(d.file, n.Line, "document has no apiVersion or kind"))
		return
	}
	if strings.HasSuffix(kind, "List") {
		if items := child(n, "items"); items != nil && depth < 4 {
			for items.Kind == yaml.AliasNode && items.Alias != nil {
				items = items.Alias
			}
			if items.Kind == yaml.SequenceNode {
				for _, it := range items.Content {
					d.document(it, depth+1)
				}
				return
			}
		}
	}
	js, err := toJSON(n, d.budget)
	if err != nil {
		line := n.Line
		if le, ok := err.(*lineError); ok {
			line, err = le.line, le.err
		}
		d.errs = append(d.errs, &InputError{File: d.file, Line: line, Err: fmt.Errorf("%s %s: %w", apiVersion, kind, err)})
		return
	}
	d.object(apiVersion, kind, n.Line, js, indexLines(n, d.keys))
}

// fastObject decodes text, a document starting on line, when fastParse
// reads it (parsed) and it is one object (done): through jsonSink,
// without a node tree.
func (d *docDecoder) fastObject(text []byte, line int) (done, parsed bool) {
	if d.fast == nil {
		d.fast = newJSONSink(d.keys, d.budget)
	}
	s := d.fast
	s.reset()
	if !d.parser.parse(text, line, s) {
		return false, false
	}
	js, lines, ok := s.object()
	if !ok {
		return false, true
	}
	if d.count(s.rootLine) {
		d.object(s.apiVersion, s.kind, s.rootLine, js, lines)
	}
	return true, true
}

// count counts one more document (a List's items count too), on line;
// false past the limit.
func (d *docDecoder) count(line int) bool {
	d.docs++
	if d.docs > d.lim.MaxDocuments {
		d.errs = append(d.errs, inputErr(d.file, line, "more than %d documents", d.lim.MaxDocuments))
		d.tooMany = true
		return false
	}
	return true
}

// object adds the object js encodes, the document of apiVersion and kind
// on line, whose fields' lines are indexed in lines.
func (d *docDecoder) object(apiVersion, kind string, line int, js []byte, lines lineIndex) {
	obj, err := decodeTyped(apiVersion, kind, js)
	if err != nil {
		d.errs = append(d.errs, &InputError{File: d.file, Line: line, Err: err})
		return
	}
	o := newObject(obj, apiVersion, kind)
	o.Source = Source{File: d.file, Line: line}
	o.lines = lines
	d.objs = append(d.objs, o)
}

// scalarField returns the value of scalar key in mapping n, or "".
func scalarField(n *yaml.Node, key string) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// decodeTyped decodes js into the k8s.io/api type of apiVersion/kind, or into
// an Unstructured for kinds the client-go scheme does not know.
func decodeTyped(apiVersion, kind string, js []byte) (runtime.Object, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, fmt.Errorf("apiVersion %q: %w", apiVersion, err)
	}
	gvk := gv.WithKind(kind)
	if obj, err := scheme.Scheme.New(gvk); err == nil {
		if err := kjson.UnmarshalCaseSensitivePreserveInts(js, obj); err != nil {
			return nil, fmt.Errorf("decode %s %s: %w", apiVersion, kind, err)
		}
		obj.GetObjectKind().SetGroupVersionKind(gvk)
		return obj, nil
	}
	var m map[string]any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &m); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", apiVersion, kind, err)
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// newObject wraps a decoded object with its identity and metadata.
func newObject(obj runtime.Object, apiVersion, kind string) *Object {
	o := &Object{Typed: obj, Ref: Ref{APIVersion: apiVersion, Kind: kind}}
	if a, ok := obj.(metav1.Object); ok {
		o.Meta = metav1.ObjectMeta{
			Name:        a.GetName(),
			Namespace:   a.GetNamespace(),
			Labels:      a.GetLabels(),
			Annotations: a.GetAnnotations(),
		}
		o.Ref.Name, o.Ref.Namespace = a.GetName(), a.GetNamespace()
		if o.Ref.Name == "" {
			// A manifest created with generateName (Helm hooks, Jobs run
			// with kubectl create) is known by its prefix: without it,
			// findings named no object ("Job/container:migrate") and two
			// such objects of a kind shared one finding ID.
			o.Ref.Name = a.GetGenerateName()
		}
	}
	return o
}
