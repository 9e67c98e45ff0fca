package sink

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/palisade-sec/palisade/internal/bus"
	"github.com/palisade-sec/palisade/internal/store"
)

// flaky fails its first failures sends, then records what it gets.
type flaky struct {
	name     string
	failures int // -1: always fail
	mu       sync.Mutex
	calls    int
	got      []string
}

func (f *flaky) Name() string { return f.name }

func (f *flaky) Send(_ context.Context, alerts []Alert) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.failures < 0 || f.calls <= f.failures {
		return errors.New("endpoint down")
	}
	for _, a := range alerts {
		f.got = append(f.got, a.ID)
	}
	return nil
}

func (f *flaky) snapshot() (int, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, append([]string(nil), f.got...)
}

// memStore is the alert store under PublishingStore in this test; the
// store's own behaviour is tested in storetest.
type memStore struct {
	mu     sync.Mutex
	alerts map[string]store.Alert
}

func (m *memStore) AppendAuditEvents(context.Context, []store.AuditEvent) (int, error) { return 0, nil }
func (m *memStore) PutAlert(_ context.Context, a store.Alert) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.alerts[a.ID] = a
	return nil
}

// TestForwarder runs the real embedded bus: alerts published through
// PublishingStore reach a sink that fails twice exactly once, and a sink
// that always fails ends in the dead letter, with every outcome counted.
func TestForwarder(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	b, err := bus.Open(ctx, bus.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	ps := &PublishingStore{AlertStore: &memStore{alerts: map[string]store.Alert{}}, Bus: b}
	a := sampleAlerts()[0]
	raw, _ := json.Marshal(a.Alert)
	sa := store.Alert{ID: a.ID, RuleID: a.RuleID, Cluster: a.Cluster, Raw: raw}
	// Stored twice (a redelivered audit message): forwarded once.
	for range 2 {
		if err := ps.PutAlert(ctx, sa); err != nil {
			t.Fatal(err)
		}
	}

	recovering := &flaky{name: "recovering", failures: 2}
	broken := &flaky{name: "broken", failures: -1}
	reg := prometheus.NewRegistry()
	fw, err := NewForwarder(ForwarderOptions{Bus: b, Sinks: []Sink{recovering, broken}, Registerer: reg,
		Retry: Retry{MaxAttempts: 3, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fw.Run(ctx) }()

	var letters []DeadLetter
	var mu sync.Mutex
	go b.Consume(ctx, "test-dead-letters", DeadLetterPrefix+">", func(_ context.Context, m bus.Message) error {
		var dl DeadLetter
		if err := json.Unmarshal(m.Data, &dl); err != nil {
			t.Errorf("dead letter does not decode: %v", err)
		}
		mu.Lock()
		letters = append(letters, dl)
		mu.Unlock()
		return nil
	})

	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(letters)
		mu.Unlock()
		_, got := recovering.snapshot()
		if n >= 1 && len(got) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %d dead letters, recovering got %v", n, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Let any stray redelivery show itself before counting.
	time.Sleep(300 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	calls, got := recovering.snapshot()
	if calls != 3 || len(got) != 1 || got[0] != a.ID {
		t.Errorf("recovering sink: %d calls, got %v; want 3 calls and %s once", calls, got, a.ID)
	}
	if calls, got := broken.snapshot(); calls != 3 || len(got) != 0 {
		t.Errorf("broken sink: %d calls, got %v; want 3 failed calls", calls, got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(letters) != 1 {
		t.Fatalf("%d dead letters, want 1", len(letters))
	}
	dl := letters[0]
	var back Alert
	if err := json.Unmarshal(dl.Alert, &back); err != nil || back.ID != a.ID || back.RuleID != a.RuleID {
		t.Errorf("dead letter alert = %+v (%v)", back, err)
	}
	if dl.Sink != "broken" || dl.Attempts != 3 || !strings.Contains(dl.Error, "endpoint down") {
		t.Errorf("dead letter = %+v", dl)
	}
	for _, c := range []struct {
		sink, result string
		want         float64
	}{
		{"recovering", ResultRetry, 2}, {"recovering", ResultDelivered, 1}, {"recovering", ResultDeadLetter, 0},
		{"broken", ResultRetry, 2}, {"broken", ResultDeadLetter, 1}, {"broken", ResultDelivered, 0},
	} {
		if got := counterValue(t, reg, "palisade_sink_deliveries_total", c.sink, c.result); got != c.want {
			t.Errorf("palisade_sink_deliveries_total{sink=%q,result=%q} = %v, want %v", c.sink, c.result, got, c.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	r := Retry{Initial: time.Second, Max: 8 * time.Second}.withDefaults()
	for _, tc := range []struct {
		attempt  int
		lo, hi   time.Duration
		name     string
		rndValue float64
	}{
		{1, 0, 0, "first attempt waits nothing", 0.5},
		{2, 500 * time.Millisecond, time.Second, "first retry", 0.999},
		{3, time.Second, 2 * time.Second, "doubles", 0.5},
		{5, 4 * time.Second, 8 * time.Second, "reaches the cap", 0.0},
		{30, 4 * time.Second, 8 * time.Second, "stays at the cap", 0.999},
	} {
		got := r.Backoff(tc.attempt, func() float64 { return tc.rndValue })
		if got < tc.lo || got > tc.hi {
			t.Errorf("%s: Backoff(%d) = %s, want within [%s, %s]", tc.name, tc.attempt, got, tc.lo, tc.hi)
		}
	}
}

// counterValue reads a sink,result counter from the registry as /metrics
// would serve it.
func counterValue(t *testing.T, reg *prometheus.Registry, name, sink, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["sink"] == sink && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestForwarderResumesAfterRestart stops the forwarder while a sink is
// failing and starts a new one (a restarted server) on the same bus
// directory: the alert is still delivered, once, and not dead-lettered.
func TestForwarderResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	a := sampleAlerts()[1]
	raw, _ := json.Marshal(a.Alert)

	run := func(s *flaky, until func() bool) {
		ctx, cancel := context.WithCancel(t.Context())
		b, err := bus.Open(ctx, bus.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if err := (&PublishingStore{AlertStore: &memStore{alerts: map[string]store.Alert{}}, Bus: b}).PutAlert(ctx,
			store.Alert{ID: a.ID, Cluster: a.Cluster, Raw: raw}); err != nil {
			t.Fatal(err)
		}
		fw, err := NewForwarder(ForwarderOptions{Bus: b, Sinks: []Sink{s}, Retry: Retry{MaxAttempts: 50, Initial: 5 * time.Millisecond, Max: 10 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- fw.Run(ctx) }()
		// The message in flight at the stop is redelivered once the bus's
		// 30 s acknowledgement window lapses, hence the long deadline.
		for deadline := time.Now().Add(90 * time.Second); !until(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("timed out")
			}
		}
		time.Sleep(200 * time.Millisecond)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	down := &flaky{name: "soc", failures: -1}
	run(down, func() bool { n, _ := down.snapshot(); return n >= 2 })
	up := &flaky{name: "soc"}
	run(up, func() bool { _, got := up.snapshot(); return len(got) > 0 })
	if _, got := up.snapshot(); len(got) != 1 || got[0] != a.ID {
		t.Errorf("after restart the sink got %v, want %s once", got, a.ID)
	}
}
