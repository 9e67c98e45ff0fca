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
// otherwise; it reports whether fastParse accepted it.
func checkFast(t *testing.T, name string, doc []byte) bool {
	t.Helper()
	got, ok := fastParse(doc, 1)
	if !ok {
		return false
	}
	want, err := yamlV3Document(doc)
	if err != nil {
		t.Errorf("%s: fastParse accepted what yaml.v3 refuses (%v):\n%s", name, err, doc)
		return true
	}
	if d := treeDiff(got, want, "root"); d != "" {
		t.Errorf("%s: %s\n%s", name, d, doc)
	}
	return true
}

func TestFastParse(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		fast bool
	}{
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {app: web}}\nspec:\n  containers:\n  - name: c\n    image: \"nginx:1.27\"\n    args: ['--a', \"--b=\\\"x\\\"\", it''s]\n    ports: [{containerPort: 80}, {containerPort: 443}]\n", true},
		{"---\na:\nb: 1 # one\nc:\n  - x\nd:\n- y\n-\n- z: 1\n  w:\n  v: [a,b]\ne: {}\nf: []\n", true},
		{"url: http://x:80/p#f\nt: 2022-09-22T10:16:10Z\nn: 012\no: 0o12\nf: 1e3\nnul: ~\ny: yes\nneg: -1\nq: \"\\u00e9\\n\"\n", true},
		{"a: |\n  text\n", false},          // block scalar
		{"a: &x 1\nb: *x\n", false},        // anchor and alias
		{"a: !!str 1\n", false},            // tag
		{"a: plain\n  continued\n", false}, // multi-line plain scalar
		{"a: [1,\n  2]\n", false},          // multi-line flow
		{"<<: {a: 1}\n", false},            // merge key
		{"a:\tb\n", false},                 // tab
		{"a: caf\xc3\xa9\n", false},        // non-ASCII
		{"a: [unclosed\n", false},
		{"a: 'x' y\n", false},
		{"- - a\n", false},
		{"? a\n: b\n", false},
		{"# only a comment\n", false},
		{"a: b: c\n", false},
		{"---#x\na: 1\n", false}, // not a document marker: a scalar, then an error
		{"--- # start\na: 1\n", true},
	} {
		if got := checkFast(t, tc.doc, []byte(tc.doc)); got != tc.fast {
			t.Errorf("fastParse(%q) accepted %v, want %v", tc.doc, got, tc.fast)
		}
	}
}

// TestFastParseCorpora parses every document of this repository's YAML
// files and of the peer corpora in ../shared both ways: whatever fastParse
// accepts must be what yaml.v3 reads.
func TestFastParseCorpora(t *testing.T) {
	fastDocs := func(root string) (docs, fast int) {
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
				if checkFast(t, path, data[start:end]) {
					fast++
				}
				start = end
			}
			return nil
		})
		return docs, fast
	}
	docs, fast := fastDocs("../..")
	if docs == 0 {
		t.Fatal("no YAML document in this repository")
	}
	t.Logf("this repository: %d of %d documents parsed by fastParse", fast, docs)
	const corpora = "../../../shared/posture-corpora"
	if _, err := os.Stat(corpora); err != nil {
		sharedtest.Missing(t, "peer corpora: %v", err)
		return
	}
	docs, fast = fastDocs(corpora)
	if docs == 0 {
		t.Fatalf("no YAML document in %s", corpora)
	}
	t.Logf("peer corpora: %d of %d documents parsed by fastParse", fast, docs)
}

func FuzzFastParse(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
		"a:\n- b: 1\n  c: [x, 'y', \"z\"]\n-\n- {k: v}\n",
		"a: b # c\nd: 'e''f'\ng: \"h\\ti\"\n",
		"- a\n- b: c\n  d:\n  - e\n",
		"k: v:\n", "a: -1\nb: ?x\nc: :y\n", "x: [a, {b: c}, [d]]\n", "'k': 1\n\"j\" : 2\n",
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
