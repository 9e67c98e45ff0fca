package kube

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// decodeBothWays decodes data sequentially and, split into up to n chunks,
// in parallel, and fails t when the two differ in any object, line or
// error. It reports whether data was split at all.
func decodeBothWays(t *testing.T, data []byte, n int, lim Limits) bool {
	t.Helper()
	lim = lim.withDefaults()
	budget := 8*len(data) + 1<<20
	wantObjs, wantErr := decodeSequential(t.Context(), "f.yaml", data, lim, budget)
	// compare fails t when decoding chunks gives another result than the
	// sequential decoder.
	compare := func(chunks []chunk, workers int) {
		t.Helper()
		objs, errs, err := decodeChunks(t.Context(), "f.yaml", chunks, lim, budget, workers)
		if errors.Is(err, errChunkFallback) {
			return // Decode then runs decodeSequential: the same result by construction
		}
		if err != nil {
			t.Fatalf("decodeChunks: %v", err)
		}
		if got, want := fmt.Sprint(errors.Join(errs...)), fmt.Sprint(wantErr); got != want {
			t.Fatalf("errors differ (%d chunks):\nchunked:    %s\nsequential: %s", len(chunks), got, want)
		}
		if len(objs) != len(wantObjs) {
			t.Fatalf("chunked decode gave %d objects, sequential %d", len(objs), len(wantObjs))
		}
		for i := range objs {
			a, b := objs[i], wantObjs[i]
			if a.Ref != b.Ref || a.Source != b.Source || !reflect.DeepEqual(a.Meta, b.Meta) ||
				!reflect.DeepEqual(a.Typed, b.Typed) || !sameLines(a.lines, b.lines) {
				t.Fatalf("object %d differs (%d chunks):\nchunked:    %+v %+v\nsequential: %+v %+v", i, len(chunks), a.Ref, a.Source, b.Ref, b.Source)
			}
		}
	}
	// Small files are one chunk: their documents are parsed one at a
	// time all the same.
	if splittable(data) {
		compare([]chunk{{data: data, firstLine: 1}}, 1)
	}
	chunks := splitDocuments(data, n)
	if chunks == nil {
		return false
	}
	var joined []byte
	for i, c := range chunks {
		joined = append(joined, c.data...)
		if i > 0 && !strings.HasPrefix(string(c.data), "---") {
			t.Fatalf("chunk %d starts with %.20q, not a document marker", i, c.data)
		}
	}
	if string(joined) != string(data) {
		t.Fatalf("chunks do not add up to the input")
	}
	compare(chunks, 2)
	return true
}

func TestDecodeChunkedMatchesSequential(t *testing.T) {
	pod := func(name string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + "}\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
	}
	cases := map[string]string{
		"plain stream":       strings.Repeat("---\n"+pod("a"), 9),
		"no leading marker":  pod("a") + "---\n" + pod("b") + "---\n" + pod("c"),
		"marker with a body": pod("a") + "--- {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}\n---\n" + pod("b"),
		"marker and comment": pod("a") + "--- # next\n" + pod("b") + "---\t\n" + pod("c"),
		"CRLF":               strings.ReplaceAll(pod("a")+"---\n"+pod("b")+"---\n"+pod("c"), "\n", "\r\n"),
		"empty documents":    "---\n---\n" + pod("a") + "---\n\n---\n# only a comment\n---\n" + pod("b"),
		"end markers":        pod("a") + "...\n---\n" + pod("b") + "...\n",
		"block scalar": pod("a") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata:\n  k: |\n    ---\n    text\n" +
			"---\n" + pod("b"),
		"dashes in a value":  pod("a") + "----\n---x\n---\n" + pod("b"),
		"list kind":          "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(pod("a"), "\n", "\n  ") + "---\n" + pod("b"),
		"anchors":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: &d {k: v}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: v}\n---\n" + pod("c"),
		"bad document":       pod("a") + "---\n- not an object\n---\napiVersion: v1\n---\n" + pod("b"),
		"syntax error":       pod("a") + "---\nkey: [unclosed\n---\n" + pod("b"),
		"quoted over marker": pod("a") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: q}\ndata: {k: \"a\n---\nb\"}\n---\n" + pod("b"),
		"directive":          "%YAML 1.1\n---\n" + pod("a") + "---\n" + pod("b"),
		"bad typed value":    pod("a") + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: 7}\n---\n" + pod("b"),
		"tabs and unicode":   pod("ä") + "---\n" + pod("b\u2028") + "---\n" + pod("c"),
		"last line marker":   pod("a") + "---",
		"unknown kind":       pod("a") + "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {x: 1}\n---\n" + pod("b"),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			for n := 2; n <= 6; n++ {
				decodeBothWays(t, []byte(data), n, Limits{})
			}
		})
	}
}

func TestDecodeChunkedKeepsTheDocumentLimit(t *testing.T) {
	doc := "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
	data := []byte(strings.Repeat(doc, 50))
	lim := Limits{MaxDocuments: 20}.withDefaults()
	_, _, err := decodeChunks(t.Context(), "f.yaml", splitDocuments(data, 4), lim, 1<<20, 2)
	if !errors.Is(err, errChunkFallback) {
		t.Fatalf("50 documents over a limit of 20: err = %v, want the sequential fallback", err)
	}
	decodeBothWays(t, data, 4, Limits{MaxDocuments: 20})
}

func TestDecodeLargeStreamIsChunked(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < minChunkedSize+1; i++ {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: ns}\ndata: {k: v}\n", i)
	}
	data := []byte(b.String())
	if splitDocuments(data, 8) == nil {
		t.Fatal("a large multi-document stream was not split")
	}
	objs, err := Decode(t.Context(), "big.yaml", data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Count(b.String(), "---\n")
	if len(objs) != want {
		t.Fatalf("decoded %d objects, want %d", len(objs), want)
	}
	for i, o := range objs {
		if o.Meta.Name != fmt.Sprintf("cm-%d", i) || o.Source.Line != 5*i+2 {
			t.Fatalf("object %d is %s at line %d, want cm-%d at line %d", i, o.Meta.Name, o.Source.Line, i, 5*i+2)
		}
	}
	decodeBothWays(t, data, 8, Limits{})
}

func FuzzDecodeChunked(f *testing.F) {
	f.Add([]byte(multiDoc), uint8(3))
	f.Add([]byte("a: 1\n---\nb: [\n---\nc: 2\n"), uint8(2))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n--- |\n  x\n---\napiVersion: v1\nkind: Pod\n"), uint8(4))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod}]\n---\n&a x: *a\n"), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		if len(data) > 1<<16 {
			return
		}
		decodeBothWays(t, data, 2+int(n%6), Limits{MaxFileSize: 1 << 20, MaxDocuments: 100})
	})
}

// sameLines reports whether a and b index the same keys and lines; their
// key numbers differ when they were decoded with different lineKeys.
func sameLines(a, b lineIndex) bool { return lineDump(a) == lineDump(b) }

// lineDump writes out the tree a line index holds — each node's key,
// line and children — whatever order its entries are stored in.
func lineDump(idx lineIndex) string {
	if idx.nodes == nil {
		return ""
	}
	names := map[int32]string{noKey: "-"}
	if idx.keys != nil {
		for s, id := range idx.keys.ids {
			names[id] = s
		}
	}
	var b strings.Builder
	var walk func(at int32, depth int)
	walk = func(at int32, depth int) {
		e := idx.nodes[at]
		fmt.Fprintf(&b, "%*s%q line %d", 2*depth, "", names[e.key], e.line)
		kids := e.kids &^ seqKids
		if e.kids&seqKids != 0 {
			b.WriteString(" seq")
		}
		b.WriteByte('\n')
		for i := range kids {
			walk(e.first+i, depth+1)
		}
	}
	walk(0, 0)
	return b.String()
}
