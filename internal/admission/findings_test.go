package admission

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/policyreport"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// TestAuditFindingsAreStored checks that audit-mode violations become
// findings in Palisade's store (real SQLite) with the policy's severity,
// that a repeated review is one finding, and that the set stays bounded.
func TestAuditFindingsAreStored(t *testing.T) {
	l := newLab(t)
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rec := &FindingRecorder{Store: st, Scope: "admission:replica-a", Max: 2}
	e := l.engine(t, Audit)
	e.Reports = rec
	for range 2 { // the same violation twice: one finding
		if resp := e.Review(t.Context(), podReview(t, "shop", privileged(pod(l.Good)))); !resp.Allowed {
			t.Fatalf("audit mode denied: %+v", resp.Result)
		}
	}
	if err := rec.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := st.ListFindings(t.Context(), store.FindingFilter{Scope: "admission:replica-a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d findings, want 1: %+v", len(got), got)
	}
	f := got[0].Finding
	if f.RuleID != "admission/pod-security-baseline" || f.Severity != finding.SeverityHigh || f.Resource.Namespace != "shop" || f.Resource.Container != "c0" {
		t.Errorf("finding %+v", f)
	}

	// Bounded: the oldest result goes first.
	now := time.Now()
	for i, name := range []string{"a", "b", "c"} {
		rec.Record(policyreport.Result{Policy: "lp/x", Severity: finding.SeverityLow, Time: now.Add(time.Duration(i) * time.Second),
			Resource: policyreport.Resource{Kind: "Pod", Namespace: "shop", Name: name}})
	}
	if err := rec.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err = st.ListFindings(t.Context(), store.FindingFilter{Scope: "admission:replica-a"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Finding.Resource.Name)
	}
	if len(names) != 2 || names[0] == "a" || names[1] == "a" {
		t.Errorf("kept %v, want the newest two (b, c)", names)
	}
}
