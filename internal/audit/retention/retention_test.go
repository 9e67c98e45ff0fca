package retention

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// TestRetention runs against real SQLite with an injected clock: each tick
// moves the clock a day, and events leave the store exactly when they pass
// the retention.
func TestRetention(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var evs []store.AuditEvent
	for i, age := range []int{0, 10, 29, 31, 60} { // days before base
		evs = append(evs, store.AuditEvent{AuditID: "ev-" + string(rune('a'+i)), Stage: "ResponseComplete", Cluster: "c",
			EventTime: base.AddDate(0, 0, -age), ReceivedAt: base, Verb: "get", Raw: []byte(`{}`)})
	}
	if _, err := st.AppendAuditEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	now := base
	r := New(Options{Store: st, Keep: 30 * 24 * time.Hour, Now: func() time.Time { return now }})

	count := func() int {
		got, err := st.QueryAuditEvents(ctx, store.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	for _, step := range []struct {
		advance time.Duration
		want    int
	}{
		{0, 3},                   // 31 and 60 days old go
		{24 * time.Hour, 3},      // the 29-day-old one is 30 days old: kept
		{25 * time.Hour, 2},      // now past 30 days
		{19 * 24 * time.Hour, 1}, // the 10-day-old one is now 31 days old
	} {
		now = now.Add(step.advance)
		if _, err := r.Once(ctx); err != nil {
			t.Fatal(err)
		}
		if got := count(); got != step.want {
			t.Errorf("at %s: %d events, want %d", now.Format(time.RFC3339), got, step.want)
		}
	}
}

// TestRunTicks checks the loop: a pass at start and one per tick, stopping
// with its context.
func TestRunTicks(t *testing.T) {
	calls := make(chan time.Time, 10)
	st := storeFunc(func(_ context.Context, before time.Time) (int64, error) { calls <- before; return 1, nil })
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	r := New(Options{Store: st, Keep: time.Hour, Now: func() time.Time { return now }})
	ctx, cancel := context.WithCancel(t.Context())
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() { r.Run(ctx, tick); close(done) }()
	if got := <-calls; !got.Equal(now.Add(-time.Hour)) {
		t.Errorf("first pass cut off at %s", got)
	}
	tick <- now
	<-calls
	cancel()
	<-done
	if n, _ := New(Options{Store: st}).Once(t.Context()); n != 0 || len(calls) != 0 {
		t.Error("Keep 0 deleted events")
	}
}

type storeFunc func(context.Context, time.Time) (int64, error)

func (f storeFunc) DeleteAuditEventsBefore(ctx context.Context, before time.Time) (int64, error) {
	return f(ctx, before)
}
