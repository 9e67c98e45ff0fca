package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// batchCollector records the batches it is handed; ack says whether it
// acknowledges them, fail how many calls fail first.
type batchCollector struct {
	mu      sync.Mutex
	batches []*Batch
	ack     bool
	fail    int
}

func (c *batchCollector) handle(ctx context.Context, b *Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail > 0 {
		c.fail--
		return errors.New("injected failure")
	}
	c.batches = append(c.batches, b)
	if c.ack {
		return b.Ack(ctx)
	}
	return nil
}

// ids waits until want messages arrived and returns their IDs in order.
func (c *batchCollector) ids(t *testing.T, want int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c.mu.Lock()
		var out []string
		for _, b := range c.batches {
			for _, m := range b.Messages {
				out = append(out, m.ID)
			}
		}
		c.mu.Unlock()
		if len(out) >= want {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d messages, want %d", len(out), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func consumeBatch(t *testing.T, b *Bus, durable string, opts BatchOptions, c *batchCollector) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.ConsumeBatch(ctx, durable, "palisade.test.>", opts, c.handle) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ConsumeBatch: %v", err)
		}
	}
}

func waitPending(t *testing.T, b *Bus, durable string, want uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := b.Pending(t.Context(), durable)
		if err == nil && n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending = %d (%v), want %d", n, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func wantIDs(t *testing.T, got []string, from, to int) {
	t.Helper()
	if len(got) != to-from {
		t.Fatalf("got %d messages, want %d", len(got), to-from)
	}
	for i, id := range got {
		if want := fmt.Sprintf("ev-%04d", from+i); id != want {
			t.Fatalf("message %d = %s, want %s (out of order or duplicated)", i, id, want)
		}
	}
}

func TestConsumeBatchInOrder(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	if err := b.PublishBatch(t.Context(), batch(0, 2500)); err != nil {
		t.Fatal(err)
	}
	c := &batchCollector{ack: true}
	stop := consumeBatch(t, b, "batches", BatchOptions{MaxBatch: 300}, c)
	wantIDs(t, c.ids(t, 2500), 0, 2500)
	waitPending(t, b, "batches", 0)
	stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, bt := range c.batches {
		if n := len(bt.Messages); n == 0 || n > 300 {
			t.Errorf("batch %d has %d messages, want 1..300", i, n)
		}
	}
	if len(c.batches) >= 2500 {
		t.Errorf("%d batches for 2500 waiting messages: nothing was batched", len(c.batches))
	}
}

// TestConsumeBatchLateAck acknowledges from another goroutine after the
// handler returned, as ack-after-snapshot does.
func TestConsumeBatchLateAck(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	if err := b.PublishBatch(t.Context(), batch(0, 50)); err != nil {
		t.Fatal(err)
	}
	c := &batchCollector{}
	stop := consumeBatch(t, b, "late", BatchOptions{}, c)
	defer stop()
	c.ids(t, 50)
	waitPending(t, b, "late", 50)
	c.mu.Lock()
	held := c.batches
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, bt := range held {
		wg.Go(func() {
			if err := bt.Ack(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	waitPending(t, b, "late", 0)
}

func TestConsumeBatchFailedIsRedelivered(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	if err := b.PublishBatch(t.Context(), batch(0, 5)); err != nil {
		t.Fatal(err)
	}
	c := &batchCollector{ack: true, fail: 1}
	stop := consumeBatch(t, b, "retry", BatchOptions{MaxWait: 50 * time.Millisecond}, c)
	defer stop()
	got := c.ids(t, 5)
	wantIDs(t, got[:5], 0, 5)
	c.mu.Lock()
	redelivered := c.batches[0].Messages[0].Delivered
	c.mu.Unlock()
	if redelivered < 2 {
		t.Errorf("Delivered = %d after a failed batch, want ≥ 2", redelivered)
	}
	waitPending(t, b, "retry", 0)
}

// TestUnackedBatchFirstAfterRestart: a batch handled but never acknowledged
// before the process went away comes back after a restart, in order and
// before newer messages, without waiting for the acknowledgement timeout.
func TestUnackedBatchFirstAfterRestart(t *testing.T) {
	dir := t.TempDir()
	b := openEmbedded(t, dir)
	if err := b.PublishBatch(t.Context(), batch(0, 10)); err != nil {
		t.Fatal(err)
	}
	acked := &batchCollector{ack: true}
	stop := consumeBatch(t, b, "restart", BatchOptions{MaxBatch: 4}, acked)
	wantIDs(t, acked.ids(t, 10), 0, 10)
	waitPending(t, b, "restart", 0)
	stop()
	if err := b.PublishBatch(t.Context(), batch(10, 20)); err != nil {
		t.Fatal(err)
	}
	held := &batchCollector{} // handles, never acknowledges: a crash before the snapshot
	stop = consumeBatch(t, b, "restart", BatchOptions{}, held)
	wantIDs(t, held.ids(t, 10), 10, 20)
	stop()
	b.Close()

	b = openEmbedded(t, dir)
	defer b.Close()
	if err := b.PublishBatch(t.Context(), batch(20, 25)); err != nil {
		t.Fatal(err)
	}
	again := &batchCollector{ack: true}
	start := time.Now()
	stop = consumeBatch(t, b, "restart", BatchOptions{}, again)
	defer stop()
	got := again.ids(t, 15)
	wantIDs(t, got[:15], 10, 25)
	if d := time.Since(start); d > BatchAckWait/2 {
		t.Errorf("unacknowledged messages took %v to come back: they waited for the ack timeout", d)
	}
	again.mu.Lock()
	if d := again.batches[0].Messages[0].Delivered; d != 0 {
		t.Errorf("first message after restart Delivered = %d, want 0 (replayed from the stream)", d)
	}
	again.mu.Unlock()
}

// TestConsumeBatchTakesOverConsumeDurable: the audit pipeline's durable
// consumer was made by Consume (with a redelivery back-off) before it
// moved to batches; it must keep its position.
func TestConsumeBatchTakesOverConsumeDurable(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	if err := b.PublishBatch(t.Context(), batch(0, 5)); err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	stop := consume(t, b, "shared", c)
	c.wait(t, 5)
	waitPending(t, b, "shared", 0)
	stop()
	if err := b.PublishBatch(t.Context(), batch(5, 8)); err != nil {
		t.Fatal(err)
	}
	bc := &batchCollector{ack: true}
	stopBatch := consumeBatch(t, b, "shared", BatchOptions{}, bc)
	defer stopBatch()
	wantIDs(t, bc.ids(t, 3), 5, 8)
}

func TestSubjectMatches(t *testing.T) {
	for _, tc := range []struct {
		filter, subject string
		want            bool
	}{
		{"palisade.audit.>", "palisade.audit.prod", true},
		{"palisade.audit.>", "palisade.audit.prod.x", true},
		{"palisade.audit.>", "palisade.audit", false},
		{"palisade.audit.>", "palisade.alerts.prod", false},
		{"palisade.*.prod", "palisade.audit.prod", true},
		{"palisade.*.prod", "palisade.audit.dev", false},
		{"palisade.audit.prod", "palisade.audit.prod", true},
		{"palisade.audit.prod", "palisade.audit.prod2", false},
		{"palisade.audit", "palisade.audit.prod", false},
		{"", "anything", true},
	} {
		if got := subjectMatches(tc.filter, tc.subject); got != tc.want {
			t.Errorf("subjectMatches(%q, %q) = %v, want %v", tc.filter, tc.subject, got, tc.want)
		}
	}
}
