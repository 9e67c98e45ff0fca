package kube

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/palisade-sec/palisade/internal/sharedtest"
)

// yamlV3Document parses doc with yaml.v3 as parseDocument's fallback does
// and returns its root, or an error.
func yamlV3Document(doc []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		return nil, err
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("more than one document (%v)", err)
	}
	if len(n.Content) == 0 {
		return nil, errors.New("no content")
	}
	return n.Content[0], nil
}

// treeDiff says where two node trees differ in what toJSON and indexLines
// read (kind, tag, value, line, children), or "".
func treeDiff(got, want *yaml.Node, at string) string {
	if got.Kind != want.Kind || got.Tag != want.Tag || got.Value != want.Value || got.Line != want.Line || len(got.Content) != len(want.Content) {
		return fmt.Sprintf("%s: fast {kind %d tag %s value %q line %d, %d children}, yaml.v3 {kind %d tag %s value %q line %d, %d children}",
			at, got.Kind, got.Tag, got.Value, got.Line, len(got.Content), want.Kind, want.Tag, want.Value, want.Line, len(want.Content))
	}
	for i := range got.Content {
		if d := treeDiff(got.Content[i], want.Content[i], fmt.Sprintf("%s/%d", at, i)); d != "" {
			return d
		}
	}
	return ""
}

// checkFast fails t when fastParse accepts doc and yaml.v3 reads it
// otherwise, or when jsonSink takes it and writes other JSON or lines than
// toJSON and indexLines make of the tree. It reports whether fastParse
// accepted doc and jsonSink took it.
func checkFast(t *testing.T, name string, doc []byte) (parsed, object bool) {
	t.Helper()
	got, ok := fastNode(doc, 1)
	sink := newJSONSink(newLineKeys(), 1<<30)
	if fastParse(doc, 1, sink) != ok {
		t.Fatalf("%s: fastParse into a jsonSink and a nodeSink disagree on accepting\n%s", name, doc)
	}
	if !ok {
		return false, false
	}
	want, err := yamlV3Document(doc)
	if err != nil {
		t.Errorf("%s: fastParse accepted what yaml.v3 refuses (%v):\n%s", name, err, doc)
		return true, false
	}
	if d := treeDiff(got, want, "root"); d != "" {
		t.Errorf("%s: %s\n%s", name, d, doc)
	}
	js, lines, object := sink.object()
	if !object {
		return true, false
	}
	wantJS, err := toJSON(got, 1<<30)
	if err != nil {
		t.Errorf("%s: jsonSink took a document toJSON refuses (%v):\n%s", name, err, doc)
		return true, true
	}
	if string(js) != string(wantJS) {
		t.Errorf("%s: jsonSink wrote\n%s\ntoJSON\n%s\nfrom\n%s", name, js, wantJS, doc)
	}
	if a, b := lineDump(lines), lineDump(indexLines(got, newLineKeys())); a != b {
		t.Errorf("%s: jsonSink indexed lines\n%s\nindexLines\n%s\nfrom\n%s", name, a, b, doc)
	}
	if sink.apiVersion != scalarField(got, "apiVersion") || sink.kind != scalarField(got, "kind") || sink.rootLine != got.Line {
		t.Errorf("%s: jsonSink read %s %s on line %d, the tree %s %s on line %d", name, sink.apiVersion, sink.kind, sink.rootLine,
			scalarField(got, "apiVersion"), scalarField(got, "kind"), got.Line)
	}
	return true, true
}

// numbersDoc holds plain scalars at the edges of what jsonSink writes
// without asking yaml.v3 (quantities, flags) and of what it must ask it
// (hexadecimal, octal, binary, floats, timestamps, large numbers, null
// and booleans).
const numbersDoc = "apiVersion: v1\nkind: ConfigMap\ndata: {a: 100m, b: 128Mi, c: --port=80, d: 0x1F, e: 0o17, f: 0b101, g: 1e3, " +
	"h: 2022-09-22T10:16:10Z, i: 1_000, j: -0b11, k: 123456789012345678901, l: 012, m: True, n: NULL, o: nullx, p: +12345, " +
	"q: -1e5x, r: 1234567890123456789, s: Falsey, t: -.5, u: 9223372036854775807, v: 18446744073709551615, w: 0xZZ, x: 1.5.5, " +
	"y: 2022-09-22 10:16:10, z: -123456, aa: +0x10, ab: 0X1f, ac: 00, ad: -0, ae: 1e+400x, af: .5, ag: ~, ah: yes, ai: nginx:1.27, aj: FALSE}\n"

func TestFastParse(t *testing.T) {
	for _, tc := range []struct {
		doc    string
		fast   bool
		object bool // one object, which jsonSink takes
	}{
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {app: web}}\nspec:\n  containers:\n  - name: c\n    image: \"nginx:1.27\"\n    args: ['--a', \"--b=\\\"x\\\"\", it''s]\n    ports: [{containerPort: 80}, {containerPort: 443}]\n", true, true},
		{"kind: 'Config''Map'\n\"apiVersion\": \"v\\u0031\"\nmetadata:\n  name:\n  labels: {\"a\\\"b\": 'c''d', e: ~, f: 0x1F, g: 1.5, h: True, i: 1e3}\ndata:\n- x\n-\n- [1, [2, {}]]\n", true, true},
		{"apiVersion: v1\nkind: Pod\nspec: {x: -.inf}\n", true, false}, // toJSON refuses it, and says why
		{"kind:\n  name: x\nkind: Pod\napiVersion: v1\n", true, true},
		{numbersDoc, true, true},
		{"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod}\n", true, false},
		{"apiVersion: v1\nmetadata: {}\n", true, false},
		{"- apiVersion: v1\n  kind: Pod\n", true, false},
		{"plain\n", true, false},
		{"---\na:\nb: 1 # one\nc:\n  - x\nd:\n- y\n-\n- z: 1\n  w:\n  v: [a,b]\ne: {}\nf: []\n", true, false},
		{"url: http://x:80/p#f\nt: 2022-09-22T10:16:10Z\nn: 012\no: 0o12\nf: 1e3\nnul: ~\ny: yes\nneg: -1\nq: \"\\u00e9\\n\"\n", true, false},
		{"a: |\n  text\n", false, false},          // block scalar
		{"a: &x 1\nb: *x\n", false, false},        // anchor and alias
		{"a: !!str 1\n", false, false},            // tag
		{"a: plain\n  continued\n", false, false}, // multi-line plain scalar
		{"a: [1,\n  2]\n", false, false},          // multi-line flow
		{"<<: {a: 1}\n", false, false},            // merge key
		{"a:\tb\n", false, false},                 // tab
		{"a: caf\xc3\xa9\n", false, false},        // non-ASCII
		{"a: [unclosed\n", false, false},
		{"a: 'x' y\n", false, false},
		{"- - a\n", false, false},
		{"? a\n: b\n", false, false},
		{"# only a comment\n", false, false},
		{"a: b: c\n", false, false},
		{"---#x\na: 1\n", false, false}, // not a document marker: a scalar, then an error
		{"--- # start\na: 1\n", true, false},
	} {
		parsed, object := checkFast(t, tc.doc, []byte(tc.doc))
		if parsed != tc.fast || object != tc.object {
			t.Errorf("fastParse(%q) accepted %v, jsonSink took %v; want %v, %v", tc.doc, parsed, object, tc.fast, tc.object)
		}
	}
}

// TestFastParseCorpora parses every document of this repository's YAML
// files and of the peer corpora in ../shared both ways: whatever fastParse
// accepts must be what yaml.v3 reads.
func TestFastParseCorpora(t *testing.T) {
	fastDocs := func(root string) (docs, fast, objects int) {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if ext := filepath.Ext(path); d.IsDir() || (ext != ".yaml" && ext != ".yml") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil || len(data) > 4<<20 {
				return nil
			}
			for start := 0; start < len(data); {
				end := nextDocumentStart(data, start+1)
				if end < 0 {
					end = len(data)
				}
				docs++
				parsed, object := checkFast(t, path, data[start:end])
				if parsed {
					fast++
				}
				if object {
					objects++
				}
				start = end
			}
			return nil
		})
		return docs, fast, objects
	}
	docs, fast, objects := fastDocs("../..")
	if docs == 0 {
		t.Fatal("no YAML document in this repository")
	}
	t.Logf("this repository: %d of %d documents parsed by fastParse, %d of them objects written by jsonSink", fast, docs, objects)
	const corpora = "../../../shared/posture-corpora"
	if _, err := os.Stat(corpora); err != nil {
		sharedtest.Missing(t, "peer corpora: %v", err)
		return
	}
	docs, fast, objects = fastDocs(corpora)
	if docs == 0 {
		t.Fatalf("no YAML document in %s", corpora)
	}
	t.Logf("peer corpora: %d of %d documents parsed by fastParse, %d of them objects written by jsonSink", fast, docs, objects)
	if objects < fast/2 {
		t.Errorf("jsonSink took %d of the %d documents fastParse read: most manifests are one object each", objects, fast)
	}
}

func FuzzFastParse(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
		"a:\n- b: 1\n  c: [x, 'y', \"z\"]\n-\n- {k: v}\n",
		"a: b # c\nd: 'e''f'\ng: \"h\\ti\"\n",
		"- a\n- b: c\n  d:\n  - e\n",
		"k: v:\n", "a: -1\nb: ?x\nc: :y\n", "x: [a, {b: c}, [d]]\n", "'k': 1\n\"j\" : 2\n", numbersDoc,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > 1<<14 || strings.Contains(string(doc), "\n---") {
			return
		}
		checkFast(t, "fuzz", doc)
	})
}
