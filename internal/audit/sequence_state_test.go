package audit

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCorrelationStateRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	en := builtinEngine(t, EngineOptions{})
	en.Process(ev(t, "s1", at, anon+`,"verb":"get","requestURI":"/api/v1/namespaces",`+ok200+`,"objectRef":{"resource":"namespaces","apiVersion":"v1"}`))
	en.Process(ev(t, "s2", at.Add(time.Minute), anon+`,"verb":"create",`+created+`,"objectRef":{"resource":"clusterrolebindings","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},
		"requestObject":{"metadata":{"name":"b"},"roleRef":{"kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount","namespace":"apps","name":"web"}]}`))
	saved, v1 := en.CorrelationState()
	if len(saved) == 0 {
		t.Fatal("no partial matches after steps 1 and 2")
	}
	if _, v2 := en.CorrelationState(); v2 != v1 {
		t.Errorf("reading the state changed its version")
	}
	f := StateFile{Path: filepath.Join(t.TempDir(), "state", "correlation.json")}
	if err := f.Save(saved); err != nil {
		t.Fatal(err)
	}
	loaded, err := f.Load()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(saved, loaded); diff != "" {
		t.Errorf("state after save and load (-want +got):\n%s", diff)
	}
	// Unknown sequences and steps are dropped, and so is what expired.
	junk := append(loaded, PartialMatch{Sequence: "gone", Step: 1, Key: "k", Start: at, Seen: at},
		PartialMatch{Sequence: "admin-binding-then-secrets", Step: 7, Key: "k", Start: at, Seen: at})
	en2 := builtinEngine(t, EngineOptions{})
	if n := en2.RestoreCorrelationState(junk, at.Add(5*time.Minute)); n != len(saved) {
		t.Errorf("restored %d partial matches, want %d", n, len(saved))
	}
	again, _ := en2.CorrelationState()
	if diff := cmp.Diff(saved, again); diff != "" {
		t.Errorf("restored state (-want +got):\n%s", diff)
	}
	evilStep := ev(t, "s3", at.Add(2*time.Minute), evilSA+`,"verb":"list",`+ok200+`,"objectRef":{"resource":"secrets","apiVersion":"v1"}`)
	var fired []string
	for _, a := range en2.Process(evilStep) {
		if a.Kind == "sequence" {
			fired = append(fired, a.RuleID)
		}
	}
	if !cmp.Equal(fired, []string{"admin-binding-then-secrets"}) {
		t.Errorf("after restore, step 3 completed %v, want admin-binding-then-secrets", fired)
	}
	en3 := builtinEngine(t, EngineOptions{})
	if n := en3.RestoreCorrelationState(loaded, at.Add(3*time.Hour)); n != 0 {
		t.Errorf("restored %d partial matches past their window, want 0", n)
	}
}

func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"version":1,"partials":[{"sequence":"s","step":1,"key":"k","start":"2026-11-25T10:00:00Z","seen":"2026-11-25T10:00:00Z","evidence":["a"]}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"covers":18446744073709551615,"partials":[]}`))
	f.Add([]byte(`{"version":1,"covers":-1}`))
	f.Add([]byte(`{"version":1,"partials":[{"step":0}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := parseState("state.json", data)
		if err != nil {
			return
		}
		ps := snap.Partials
		en := builtinEngine(t, EngineOptions{MaxState: 10})
		en.RestoreCorrelationState(ps, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
		if got, _ := en.CorrelationState(); len(got) > 10 {
			t.Fatalf("restored %d partial matches into a table of 10", len(got))
		}
	})
}

func TestSnapshotCovers(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	f := StateFile{Path: filepath.Join(t.TempDir(), "correlation.json")}
	want := Snapshot{Partials: []PartialMatch{{Sequence: "s", Step: 1, Key: "k", Start: at, Seen: at, Evidence: []string{"a"}}}, Covers: 42}
	if err := f.SaveSnapshot(want); err != nil {
		t.Fatal(err)
	}
	got, err := f.LoadSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snapshot after save and load (-want +got):\n%s", diff)
	}
	// A file written before snapshots recorded their position covers none.
	if err := f.Save(want.Partials); err != nil {
		t.Fatal(err)
	}
	if got, err := f.LoadSnapshot(); err != nil || got.Covers != 0 {
		t.Errorf("Covers of a file without it = %d (%v), want 0", got.Covers, err)
	}
	missing := StateFile{Path: filepath.Join(t.TempDir(), "none.json")}
	en := builtinEngine(t, EngineOptions{})
	if c := en.RestoreSnapshot(missing, nil); c != 0 {
		t.Errorf("RestoreSnapshot of a missing file = %d, want 0", c)
	}
	if c := en.RestoreSnapshot(StateFile{Path: f.Path}, nil); c != 0 {
		t.Errorf("RestoreSnapshot = %d, want 0 for a file saved by Save", c)
	}
	if err := f.SaveSnapshot(Snapshot{Covers: 7}); err != nil {
		t.Fatal(err)
	}
	if c := en.RestoreSnapshot(f, nil); c != 7 {
		t.Errorf("RestoreSnapshot = %d, want 7", c)
	}
}
