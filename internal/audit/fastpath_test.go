package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/palisade-sec/palisade/internal/sharedtest"
)

// pathResult is everything a run of the pipeline produces.
type pathResult struct {
	Events []*Event
	Alerts []*Alert
	Stats  Stats
	Errors []string
	Engine EngineStats
	Err    string // the error of the whole decode, if any
}

// runPath runs data through the plain path (encoding/json on one
// goroutine, Process evaluating every rule) or the fast one (the fast
// decoder on workers goroutines, rules evaluated by Prepare on them).
func runPath(t *testing.T, set *RuleSet, data []byte, fast bool, workers int) pathResult {
	t.Helper()
	en, err := NewEngine(set, EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts := DecodeOptions{plain: true}
	if fast {
		opts = DecodeOptions{Workers: workers, Prepare: en.Prepare}
	}
	var res pathResult
	st, err := DecodeWith(t.Context(), bytes.NewReader(data), Source{Name: "t"}, fixedNow, opts, func(e *Event) error {
		res.Events = append(res.Events, e)
		res.Alerts = append(res.Alerts, en.Process(e)...)
		return nil
	})
	if err != nil {
		res.Err = err.Error()
	}
	for _, e := range st.Errors {
		res.Errors = append(res.Errors, e.Error())
	}
	st.Errors = nil
	res.Stats = st
	res.Engine = en.Stats()
	return res
}

// benchLikeEvents builds the benchmark's input (bench/audit_test.go): the
// Falco trace events with fresh auditIDs among get/list metadata events,
// plus a few broken lines so that error accounting is compared too.
func benchLikeEvents(t *testing.T, n int) []byte {
	t.Helper()
	files, _ := filepath.Glob("../../../shared/audit-samples/falco/trace_files/*.json")
	var writes [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if bytes.Contains(line, []byte(`"auditID"`)) {
				writes = append(writes, line)
			}
		}
	}
	if len(writes) == 0 {
		sharedtest.Missing(t, "Falco trace files not available")
	}
	read := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"AUDITID","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods?limit=500","verb":"list","user":{"username":"system:serviceaccount:monitoring:prometheus","groups":["system:serviceaccounts","system:authenticated"]},"sourceIPs":["10.0.3.17"],"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"stageTimestamp":"2026-11-25T10:00:00.004000Z","annotations":{"authorization.k8s.io/decision":"allow"}}`
	idRE := regexp.MustCompile(`"auditID":"[^"]*"`)
	var buf bytes.Buffer
	for i := range n {
		switch {
		case i%997 == 500:
			buf.WriteString(`{"kind":"Event","auditID":` + "\n") // broken record
			continue
		case i%5 == 4:
			buf.Write(idRE.ReplaceAll(writes[(i/5)%len(writes)], []byte(fmt.Sprintf(`"auditID":"b-%06d"`, i))))
		default:
			buf.Write(idRE.ReplaceAll([]byte(read), []byte(fmt.Sprintf(`"auditID":"b-%06d"`, i))))
		}
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// TestFastPathSameAsPlain checks that the fast decoder, the parallel
// decode and Prepare change nothing: the same normalized events, alerts,
// decode and engine counters as the plain path, on every shared sample and
// on the benchmark's data.
func TestFastPathSameAsPlain(t *testing.T) {
	inputs := map[string][]byte{"bench": benchLikeEvents(t, 2500)}
	samples, _ := filepath.Glob("../../../shared/audit-samples/falco/trace_files/*.json")
	envs, _ := filepath.Glob(filepath.Join(envelopes, "*", "*"))
	for _, path := range append(samples, envs...) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path)] = b
	}
	env, err := NewCELEnv()
	if err != nil {
		t.Fatal(err)
	}
	set, err := Builtin(env)
	if err != nil {
		t.Fatal(err)
	}
	cmpOpts := cmp.Options{cmpopts.IgnoreUnexported(Event{}), cmpopts.EquateErrors()}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			plain := runPath(t, set, data, false, 0)
			for _, workers := range []int{1, 3} {
				fast := runPath(t, set, data, true, workers)
				if d := cmp.Diff(plain, fast, cmpOpts); d != "" {
					t.Errorf("fast path (%d workers) differs from plain (-plain +fast):\n%s", workers, d)
				}
			}
			if name == "bench" && (len(plain.Alerts) == 0 || plain.Stats.ErrorCount == 0) {
				t.Fatalf("bench data gave %d alerts, %d errors: the comparison proves nothing", len(plain.Alerts), plain.Stats.ErrorCount)
			}
		})
	}
}

// FuzzFastEvent checks the fast decoder against encoding/json: whenever it
// accepts a record, encoding/json must accept it too and decode the same.
func FuzzFastEvent(f *testing.F) {
	for _, s := range []string{
		`{"kind":"Event","auditID":"a","user":{"username":"u","groups":[]},"responseStatus":{"metadata":{},"code":201}}`,
		`{"auditID":"a","AuditID":"b"}`, `{"auditID":"a","auditID":"b"}`, `{"requestObject":{"a":[1,2.5e3,true,null,{"b":"\u00e9"}],"a":1}}`,
		`{"annotations":{"k":"v","k":"w"},"objectRef":{"resource":"pods","x":1}}`, `{"responseStatus":{"code":1e2}}`,
		`{"user":{"extra":{"a":["b"]}},"sourceIPs":["1.2.3.4"]} `, `{"verb":"get\ud800"}`, `{"items":[]}`,
	} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile("../../../shared/audit-samples/falco/trace_files/exec_pod.json"); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			f.Add(line)
		}
	}
	fd := newFastDecoder()
	f.Fuzz(func(t *testing.T, data []byte) {
		var got K8sEvent
		if !fd.event(data, &got) {
			return
		}
		var want K8sEvent
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("fast decoder accepted what encoding/json rejects (%v): %q", err, data)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("fast decoder differs from encoding/json (-json +fast):\n%s", d)
		}
	})
}

// FuzzDecodePaths checks that whatever the input, the fast parallel decode
// emits the same events with the same counts and errors as the plain one.
func FuzzDecodePaths(f *testing.F) {
	for _, s := range []string{`{"kind":"Event","auditID":"a","verb":"get","stage":"ResponseComplete"}` + "\n" + `{"auditID":"b","AuditID":"c"}` + "\n{",
		`{"kind":"EventList","items":[{"auditID":"a"},null,{"auditID":"b","verb":1}]}`, `{"Kind":"Event","auditID":"x"}`} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile("../../../shared/audit-samples/falco/trace_files/exec_pod.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		collect := func(opts DecodeOptions) pathResult {
			var res pathResult
			st, err := DecodeWith(t.Context(), bytes.NewReader(data), Source{Name: "fuzz"}, fixedNow, opts, func(e *Event) error {
				res.Events = append(res.Events, e)
				return nil
			})
			if err != nil {
				res.Err = err.Error()
			}
			for _, e := range st.Errors {
				res.Errors = append(res.Errors, e.Error())
			}
			st.Errors = nil
			res.Stats = st
			return res
		}
		plain, fast := collect(DecodeOptions{plain: true}), collect(DecodeOptions{Workers: 2})
		if d := cmp.Diff(plain, fast, cmpopts.IgnoreUnexported(Event{})); d != "" {
			t.Fatalf("fast decode differs from plain (-plain +fast):\n%s", d)
		}
	})
}
