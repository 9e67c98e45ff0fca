// Package storetest is the conformance suite for store.Store
// implementations. Every implementation's tests call Run, so that SQLite and
// PostgreSQL are held to exactly the same semantics, edge cases included.
package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/palisade-sec/palisade/internal/store"
)

// Run runs the conformance suite against the stores open returns.
//
// open is called from subtests, possibly in parallel, and must return a
// migrated store. The first call for a given t must return an empty
// database; a later call with the same t (after the suite closed the
// previous store) must open the same database again, which is how the
// suite checks persistence across restarts. Run closes every store it
// opens; open need not.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Findings", func(t *testing.T) { testFindings(t, open) })
	t.Run("Scans", func(t *testing.T) { testScans(t, open) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open) })
	t.Run("Alerts", func(t *testing.T) { testAlerts(t, open) })
	t.Run("AuditBatch", func(t *testing.T) { testAuditBatch(t, open) })
	t.Run("Lifecycle", func(t *testing.T) { testLifecycle(t, open) })
	t.Run("Hostile", func(t *testing.T) { testHostile(t, open) })
}

// opener is the function Run is given.
type opener = func(t *testing.T) store.Store

// openStore opens a store for t and closes it when t ends.
func openStore(t *testing.T, open opener) store.Store {
	t.Helper()
	s := open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// base is the suite's reference time; at returns base plus n minutes.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

func at(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }

// diffOpts treats nil and empty slices alike: JSON and the databases do not
// keep that distinction, and no caller may rely on it.
var diffOpts = cmp.Options{cmpopts.EquateEmpty()}

// wantErr fails t unless err matches target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want %v", what, err, target)
	}
}

// must fails t at once when err is not nil.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
