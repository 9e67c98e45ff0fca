package finding

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// The JSON and SARIF writers stream findings one by one (and JSON encodes
// each finding by hand); these tests hold them to the bytes of encoding the
// whole document at once with encoding/json, as the writers did before.

// awkwardStrings are values a hostile manifest could put in any field: what
// encoding/json escapes (quotes, backslashes, control characters, invalid
// UTF-8, U+2028/2029) and what it must leave alone with HTML escaping off.
var awkwardStrings = []string{
	"plain", "with space", `quo"te`, `back\slash`, "tab\there", "new\nline", "nul\x00", "esc\x1b[2J", "del\x7f",
	"bell\x07\b\f\r", "bad\xff\xfeutf8", "line\u2028sep\u2029", "ATT&CK <b>", "emoji 🛡️ …", "é", "",
	"/abs/path.yaml", "C:\\win\\path.yaml", "deploy/a b.yaml", "\u202eevil",
}

// manyFindings returns n findings of every shape: all severities, several
// rules sharing controls, files with and without lines, images, evidence,
// references, excepted findings and awkward strings.
func manyFindings(n int) []Finding {
	rnd := rand.New(rand.NewPCG(1, uint64(n)))
	pick := func() string { return awkwardStrings[rnd.IntN(len(awkwardStrings))] }
	shared := []Control{{Framework: "CIS-K8s-1.9", ID: "5.2.2"}, {Framework: "MITRE-ATT&CK", ID: "T1611"}}
	fs := make([]Finding, 0, n)
	for i := range n {
		f := Finding{
			RuleID:   fmt.Sprintf("posture/rule-%d", i%7),
			Title:    "Title " + pick(),
			Severity: Severity(i % int(SeverityCritical+1)),
			Resource: Resource{Namespace: fmt.Sprintf("team-%d", i%13), Kind: "Deployment", Name: fmt.Sprintf("app-%d", i), Container: "app"},
			Message:  fmt.Sprintf("Container app of app-%d: %s", i, pick()),
		}
		switch i % 5 {
		case 0:
			f.Resource.File, f.Resource.Line = "deploy/app.yaml", i+1
		case 1:
			f.Resource.File, f.Resource.Line, f.Resource.Column = pick(), i%40, i%3
		case 2:
			f.Resource = Resource{Image: "ghcr.io/acme/" + pick(), ImageDigest: testDigest, File: "/usr/lib/" + pick()}
		case 3:
			f.Resource.Cluster = "prod " + pick()
		}
		if i%3 == 0 {
			f.Category = "workload"
			f.Controls = shared
			f.Remediation = "Fix it: " + pick()
		}
		if i%4 == 0 {
			f.Evidence = []Evidence{{Name: "field", Value: pick(), Key: true}, {Name: "note", Value: pick()}}
			f.References = []string{"https://example.com/" + pick(), pick()}
		}
		if i%11 == 0 {
			f.Status = StatusExcepted
			f.Exception = &ExceptionRef{ID: "ex-" + pick(), Owner: pick(), Reason: pick()}
			if i%22 == 0 {
				f.Exception.Expires = time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
			}
		}
		fs = append(fs, f)
	}
	return fs
}

// bigReport is a report of n findings with coverage, exposed workloads and
// errors, as a large posture scan writes one.
func bigReport(n int) *Report {
	r := NewReport(testTool(), "deploy/ "+awkwardStrings[2], testNow(), manyFindings(n))
	r.Coverage = coverageReport().Coverage
	r.Exposed = exposedReport().Exposed
	r.AddError(fmt.Errorf("read %s: permission denied", awkwardStrings[5]))
	return r
}

// wholeJSON is the JSON writer as it was: the prepared report encoded at once.
func wholeJSON(t *testing.T, r *Report) []byte {
	t.Helper()
	p, err := r.prepared()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := newJSONEncoder(&buf, "").Encode(p); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestStreamedJSONMatchesWholeDocument(t *testing.T) {
	cases := append(testCases(), testCase{"rich", richReport()}, testCase{"big", bigReport(3000)})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := writeJSONDoc(t, tc.report)
			if want := wholeJSON(t, tc.report); !bytes.Equal(got, want) {
				t.Fatalf("streamed JSON differs from encoding the whole report:\n%s", cmp.Diff(string(want), string(got)))
			}
			if !json.Valid(got) {
				t.Fatal("streamed JSON is not valid JSON")
			}
		})
	}
	// And the document decodes back to the report it was written from.
	r := bigReport(500)
	var back Report
	if err := json.Unmarshal(writeJSONDoc(t, r), &back); err != nil {
		t.Fatal(err)
	}
	p, _ := r.prepared()
	// JSON has no invalid UTF-8: each bad byte reads back as U+FFFD.
	validUTF8 := cmp.Transformer("validUTF8", func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			b.WriteRune(r) // utf8.RuneError is U+FFFD
			i += size
		}
		return b.String()
	})
	if diff := cmp.Diff(p.Findings, back.Findings, validUTF8); diff != "" {
		t.Errorf("findings do not round-trip (-written +read):\n%s", diff)
	}
}

// wholeSARIF is the SARIF writer as it was: every result built (and the
// URI bases read from the results' locations), then the log encoded at
// once. The run around the results is writeSARIF's own (sarifRunOf): what
// is compared is the streaming of the results.
func wholeSARIF(t *testing.T, r *Report) []byte {
	t.Helper()
	p, err := r.prepared()
	if err != nil {
		t.Fatal(err)
	}
	rules, index := sarifRules(p.Findings)
	results := make([]sarifResult, 0, len(p.Findings))
	bases := map[string]sarifBase{}
	for i := range p.Findings {
		f := &p.Findings[i]
		res := sarifResultOf(f, index[f.RuleID])
		for _, loc := range res.Locations {
			if loc.PhysicalLocation == nil {
				continue
			}
			if base := loc.PhysicalLocation.ArtifactLocation.URIBaseID; base != "" {
				bases[base] = sarifBaseOf(base)
			}
		}
		results = append(results, res)
	}
	run := sarifRunOf(p, rules, bases, results)
	var buf bytes.Buffer
	if err := newJSONEncoder(&buf, "").Encode(sarifLog{Schema: sarifSchemaURI, Version: sarifVersion, Runs: []sarifRun{run}}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestStreamedSARIFMatchesWholeDocument(t *testing.T) {
	cases := append(testCases(), testCase{"rich", richReport()}, testCase{"big", bigReport(3000)})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, FormatSARIF, tc.report, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			if want := wholeSARIF(t, tc.report); !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("streamed SARIF differs from encoding the whole log:\n%s", cmp.Diff(string(want), buf.String()))
			}
			if !json.Valid(buf.Bytes()) {
				t.Fatal("streamed SARIF is not valid JSON")
			}
		})
	}
}

// fillAll sets every field reachable from v (a settable value) to a
// non-zero value: strings from awkwardStrings, numbers, true, one to three
// slice elements, allocated pointers. A field added to Finding later is
// filled too, so TestFindingJSONMatchesEncodingJSON notices when findingJSON
// does not write it.
func fillAll(t *testing.T, v reflect.Value, rnd *rand.Rand) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		s := awkwardStrings[rnd.IntN(len(awkwardStrings))]
		if s == "" {
			s = "x"
		}
		v.SetString(s)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(1 + rnd.IntN(100000)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		n := 1 + rnd.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fillAll(t, s.Index(i), rnd)
		}
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillAll(t, p.Elem(), rnd)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2000+rnd.IntN(50), 3, 4, 5, 6, 7, rnd.IntN(1e9), time.FixedZone("z", 3600*rnd.IntN(5)))))
			return
		}
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				t.Fatalf("%s.%s: unexported field, fillAll cannot set it", v.Type(), v.Type().Field(i).Name)
			}
			fillAll(t, v.Field(i), rnd)
		}
	default:
		t.Fatalf("fillAll: no rule for %s", v.Type())
	}
}

// zeroSome sets each field of the struct v (and of the structs it holds)
// to its zero value with probability one in three, for omitempty.
func zeroSome(v reflect.Value, rnd *rand.Rand) {
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case rnd.IntN(3) == 0:
			f.SetZero()
		case f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[time.Time]():
			zeroSome(f, rnd)
		case f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.Struct:
			zeroSome(f.Elem(), rnd)
		case f.Kind() == reflect.Slice:
			for j := range f.Len() {
				if f.Index(j).Kind() == reflect.Struct {
					zeroSome(f.Index(j), rnd)
				}
			}
		}
	}
}

func TestFindingJSONMatchesEncodingJSON(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 11))
	for i := range 2000 {
		var f Finding
		fillAll(t, reflect.ValueOf(&f).Elem(), rnd)
		if i%2 == 1 {
			zeroSome(reflect.ValueOf(&f).Elem(), rnd)
			if f.Resource != (Resource{}) && i%10 == 1 {
				f.Resource = Resource{} // "resource": {}
			}
		}
		f.Severity = Severity(rnd.IntN(int(SeverityCritical) + 1))
		prefix := []string{"", "    ", "\t"}[i%3]
		var buf bytes.Buffer
		if err := newJSONEncoder(&buf, prefix).Encode(&f); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(buf.String(), "\n")
		got, err := findingJSON(nil, prefix, &f)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("finding %d: findingJSON differs from encoding/json (-want +got):\n%s", i, cmp.Diff(want, string(got)))
		}
	}
}

func TestFindingJSONRejectsWhatEncodingJSONRejects(t *testing.T) {
	for _, f := range []Finding{
		{RuleID: "r", Severity: Severity(99)},
		{RuleID: "r", Exception: &ExceptionRef{Expires: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	} {
		if _, err := json.Marshal(&f); err == nil {
			t.Fatalf("encoding/json accepts %+v", f)
		}
		if _, err := findingJSON(nil, "", &f); err == nil {
			t.Errorf("findingJSON accepts %+v, encoding/json does not", f)
		}
	}
}

// TestNormalizeMatchesStableSort holds Normalize, which sorts positions by
// keys built once, to the comparison sort it replaced.
func TestNormalizeMatchesStableSort(t *testing.T) {
	fs := manyFindings(2000)
	// Duplicates (equal on every sort key) must keep their input order.
	for i := 0; i < 200; i += 2 {
		fs[i+1] = fs[i]
		fs[i+1].Title = fmt.Sprintf("copy %d", i)
	}
	for i := range fs {
		fs[i].ID = ComputeID(&fs[i])
		if fs[i].Status == "" {
			fs[i].Status = StatusOpen
		}
	}
	rand.New(rand.NewPCG(3, 5)).Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
	want := append([]Finding(nil), fs...)
	sort.SliceStable(want, func(i, j int) bool {
		a, b := &want[i], &want[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		if ka, kb := a.Resource.Key(), b.Resource.Key(); ka != kb {
			return ka < kb
		}
		if a.Resource.Line != b.Resource.Line {
			return a.Resource.Line < b.Resource.Line
		}
		return a.ID < b.ID
	})
	Normalize(fs)
	if diff := cmp.Diff(want, fs); diff != "" {
		t.Errorf("Normalize order differs from the stable sort (-want +got):\n%s", diff)
	}
	if !normalized(fs) {
		t.Error("normalized = false after Normalize")
	}
}

// TestWriteDoesNotCopyNormalizedFindings checks that writers render a
// normalized report's findings in place, and still normalize a copy of a
// report built by hand without touching it.
func TestWriteDoesNotCopyNormalizedFindings(t *testing.T) {
	r := NewReport(testTool(), "t", testNow(), mixedFindings())
	p, err := r.prepared()
	if err != nil {
		t.Fatal(err)
	}
	if &p.Findings[0] != &r.Findings[0] {
		t.Error("prepared copied the findings of a normalized report")
	}
	byHand := &Report{Findings: mixedFindings()}
	before := append([]Finding(nil), byHand.Findings...)
	p, err = byHand.prepared()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, byHand.Findings); diff != "" {
		t.Errorf("prepared changed the caller's findings:\n%s", diff)
	}
	if !normalized(p.Findings) {
		t.Error("prepared findings of a hand-built report are not normalized")
	}
}

// TestAlignMatchesTabwriter holds align, which pads rows itself, to
// text/tabwriter, which it replaced for rows of equal length.
func TestAlignMatchesTabwriter(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 9))
	cells := []string{"", "-", "critical", "posture/privileged", "é…🛡️", "team-1/Deployment/app-12/container:app", "a b"}
	for n := range 6 {
		var lines, ref []tableLine
		for i := range 40 {
			if i%7 == 3 {
				lines = append(lines, tableLine{text: "header"})
				ref = append(ref, tableLine{text: "header"})
				continue
			}
			row := make([]string, n+1)
			for j := range row {
				row[j] = cells[rnd.IntN(len(cells))]
			}
			lines = append(lines, tableLine{cells: row, firstCell: i%2 == 0, sgr: "1"})
			ref = append(ref, tableLine{cells: slicesClone(row), firstCell: i%2 == 0, sgr: "1"})
		}
		if err := align(lines, "  "); err != nil {
			t.Fatal(err)
		}
		if err := alignTabwriter(ref, "  "); err != nil {
			t.Fatal(err)
		}
		for _, color := range []bool{false, true} {
			var want, got []byte
			for i := range lines {
				want = appendTableLine(want, &ref[i], color)
				got = appendTableLine(got, &lines[i], color)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%d cells, colour %v: align differs from tabwriter (-tabwriter +align):\n%s", n+1, color, diff)
			}
		}
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// TestOpenSectionMatchesTabwriter holds writeOpenSection, which renders its
// rows twice and pads them itself, in batches, to the lines the open
// section had when every row was kept and aligned by text/tabwriter.
func TestOpenSectionMatchesTabwriter(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 8))
	words := []string{"", "a", "web", "é…🛡️", "team-1", "a very long name that goes on and on and on and on and on and on and on and on and on", "x\ty"}
	pick := func() string { return words[rnd.IntN(len(words))] }
	var open []*Finding
	var sum Summary
	for range 300 {
		f := &Finding{
			Severity: Severities()[rnd.IntN(len(Severities()))],
			RuleID:   "posture/" + pick(),
			Resource: Resource{Namespace: pick(), Kind: "Deployment", Name: pick(), File: pick(), Line: rnd.IntN(3)},
			Message:  pick() + " " + pick(),
		}
		open = append(open, f)
		sum.OpenBySeverity.add(f.Severity)
	}
	sort.SliceStable(open, func(i, j int) bool { return open[i].Severity > open[j].Severity })
	// The reference: every line kept, rows aligned by tabwriter.
	lines := []tableLine{{cells: []string{"SEVERITY", "RULE", "RESOURCE", "LOCATION", "MESSAGE"}, sgr: sgrBold}}
	for i, f := range open {
		if i == 0 || f.Severity != open[i-1].Severity {
			if i > 0 {
				lines = append(lines, tableLine{})
			}
			lines = append(lines, tableLine{text: fmt.Sprintf("%s (%d)", strings.ToUpper(f.Severity.String()), sum.OpenBySeverity.Get(f.Severity)), sgr: "1;" + severitySGR(f.Severity)})
		}
		cells := openCells(f)
		lines = append(lines, tableLine{cells: cells[:], sgr: severitySGR(f.Severity), firstCell: true})
	}
	if err := alignTabwriter(lines, "  "); err != nil {
		t.Fatal(err)
	}
	for _, color := range []bool{false, true} {
		var want []byte
		for i := range lines {
			want = appendTableLine(want, &lines[i], color)
		}
		for _, batch := range []int{1, 7, len(open)} {
			var got []byte
			write := func(n int, render func(dst []byte, lo, hi int) []byte) error {
				for lo := 0; lo < n; lo += batch {
					got = render(got, lo, min(lo+batch, n))
				}
				return nil
			}
			if err := writeOpenSection(write, open, sum, color); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Fatalf("colour %v, batches of %d: open section differs from tabwriter's (-tabwriter +streamed):\n%s", color, batch, diff)
			}
		}
	}
}

func TestSARIFResultJSONMatchesEncodingJSON(t *testing.T) {
	rnd := rand.New(rand.NewPCG(13, 17))
	var results []sarifResult
	for i := range 2000 {
		var f Finding
		fillAll(t, reflect.ValueOf(&f).Elem(), rnd)
		if i%2 == 1 {
			zeroSome(reflect.ValueOf(&f).Elem(), rnd)
		}
		if i%3 == 0 {
			f.Status = StatusExcepted
		}
		f.Severity = Severity(rnd.IntN(int(SeverityCritical) + 1))
		results = append(results, sarifResultOf(&f, i))
	}
	// Shapes sarifResultOf does not make, for the generic paths.
	results = append(results,
		sarifResult{RuleID: "r"},
		sarifResult{RuleID: "r", Properties: map[string]any{"n": 3, "none": nil, "list": []string{}, "nil": []string(nil), "obj": map[string]any{"a": []int{1, 2}}}},
		sarifResult{RuleID: "r", Locations: []sarifLocation{{}}, Suppressions: []sarifSuppression{{Kind: "external", Properties: map[string]any{"x": "<&>"}}}},
	)
	for i := range results {
		prefix := []string{"", "        ", "\t"}[i%3]
		var buf bytes.Buffer
		if err := newJSONEncoder(&buf, prefix).Encode(&results[i]); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(buf.String(), "\n")
		got, err := sarifResultJSON(nil, prefix, &results[i])
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("result %d: sarifResultJSON differs from encoding/json (-want +got):\n%s", i, cmp.Diff(want, string(got)))
		}
	}
}

// TestSARIFFindingJSONMatchesResult checks the direct path of open
// findings against building the result first, on findings of every shape.
func TestSARIFFindingJSONMatchesResult(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 11))
	for i := range 3000 {
		var f Finding
		fillAll(t, reflect.ValueOf(&f).Elem(), rnd)
		if i%2 == 1 {
			zeroSome(reflect.ValueOf(&f).Elem(), rnd)
		}
		switch i % 5 {
		case 0:
			f.Status = StatusExcepted
		case 1:
			f.Status, f.Exception = StatusOpen, nil
		case 2:
			f.Resource.File = ""
		case 3:
			f.Resource = Resource{File: "/abs/dir/a b.yaml", Line: 3}
		}
		f.Severity = Severity(rnd.IntN(int(SeverityCritical) + 1))
		prefix := []string{"", "        ", "\t"}[i%3]
		res := sarifResultOf(&f, i)
		want, err := sarifResultJSON(nil, prefix, &res)
		if err != nil {
			t.Fatal(err)
		}
		got, err := sarifFindingJSON(nil, prefix, &f, i)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("finding %d: sarifFindingJSON differs from the result's encoding (-want +got):\n%s", i, cmp.Diff(string(want), string(got)))
		}
	}
}

// encodingJSONString is s as encoding/json writes it with HTML escaping off.
func encodingJSONString(t testing.TB, s string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := newJSONEncoder(&buf, "").Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	var all strings.Builder
	for c := range 0x80 {
		all.WriteByte(byte(c))
	}
	for _, s := range []string{
		"", "plain", all.String(), "<a href=\"x\">&amp;</a>", "tab\there\nnew\rline\b\f",
		"ünïcödé — ≥ →", "\u2028\u2029", "bad \xff\xfe utf8 \xc3", "\xe2\x80", "emoji 🙂", "\x00\x1f\x7f",
	} {
		if got, want := string(appendJSONString(nil, s)), encodingJSONString(t, s); got != want {
			t.Errorf("appendJSONString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	}
}

// TestPlainWord tries every byte value at every position of a word of
// plain bytes: the word test must pass exactly the bytes copied as they are.
func TestPlainWord(t *testing.T) {
	for p := range 8 {
		for b := range 256 {
			w := []byte("abcdefgh")
			w[p] = byte(b)
			plain := b >= 0x20 && b < 0x80 && b != '"' && b != '\\'
			if got := plainWord(load64(string(w))); got != plain {
				t.Errorf("byte %#x at %d: plainWord = %v, want %v", b, p, got, plain)
			}
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("plain")
	f.Add("q\"\\\n\u2028\xff")
	f.Add("a long plain message, then an escape\tand a quote \" past eight bytes \u00e9")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendJSONString(nil, s)), encodingJSONString(t, s); got != want {
			t.Fatalf("appendJSONString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	})
}

func TestEncodeInOrder(t *testing.T) {
	encode := func(dst []byte, lo, hi int) ([]byte, error) {
		for i := lo; i < hi; i++ {
			dst = strconv.AppendInt(append(dst, ' '), int64(i), 10)
		}
		return dst, nil
	}
	for _, tc := range []struct{ n, workers int }{{0, 2}, {1, 2}, {encodeBatchSize, 2}, {encodeBatchSize + 1, 2}, {10_000, 2}, {10_000, 5}, {777, 1}} {
		want, _ := encode(nil, 0, tc.n)
		var got []byte
		err := encodeInOrder(tc.n, tc.workers, encode, func(b []byte) error {
			got = append(got, b...)
			return nil
		})
		if err != nil || string(got) != string(want) {
			t.Errorf("n=%d workers=%d: got %d bytes (err %v), want %d bytes in order", tc.n, tc.workers, len(got), err, len(want))
		}
	}
}

func TestEncodeInOrderStopsAtTheFirstError(t *testing.T) {
	bad := errors.New("bad element")
	failAt := 7*encodeBatchSize + 3
	var written int
	err := encodeInOrder(100*encodeBatchSize, 3, func(dst []byte, lo, hi int) ([]byte, error) {
		if lo <= failAt && failAt < hi {
			return dst, bad
		}
		return append(dst, 'x'), nil
	}, func(b []byte) error {
		written++
		return nil
	})
	if !errors.Is(err, bad) || written != 7 {
		t.Fatalf("err = %v after %d batches written, want %v after 7", err, written, bad)
	}
	wrote := errors.New("disk full")
	err = encodeInOrder(100*encodeBatchSize, 3, func(dst []byte, lo, hi int) ([]byte, error) {
		return append(dst, 'x'), nil
	}, func([]byte) error { return wrote })
	if !errors.Is(err, wrote) {
		t.Fatalf("err = %v, want the write error", err)
	}
}
