package bus

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// collector consumes into a slice until want messages have arrived.
type collector struct {
	mu   sync.Mutex
	msgs []Message
	fail map[string]int // message ID → how many more times to fail it
}

func (c *collector) handle(_ context.Context, m Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail[m.ID] > 0 {
		c.fail[m.ID]--
		return fmt.Errorf("injected failure for %s", m.ID)
	}
	c.msgs = append(c.msgs, m)
	return nil
}

func (c *collector) wait(t *testing.T, want int) []Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		n := len(c.msgs)
		c.mu.Unlock()
		if n >= want {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.msgs) < want {
		t.Fatalf("got %d messages, want %d", len(c.msgs), want)
	}
	return append([]Message(nil), c.msgs...)
}

// consume runs Consume in the background; the returned stop waits for it.
func consume(t *testing.T, b *Bus, durable string, c *collector) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Consume(ctx, durable, "palisade.test.>", c.handle) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Consume: %v", err)
		}
	}
}

func batch(from, to int) []Message {
	var msgs []Message
	for i := from; i < to; i++ {
		msgs = append(msgs, Message{Subject: "palisade.test.events", ID: fmt.Sprintf("ev-%04d", i), Data: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	return msgs
}

func openEmbedded(t *testing.T, dir string) *Bus {
	t.Helper()
	b, err := Open(t.Context(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPublishConsumeInOrder(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	if err := b.PublishBatch(t.Context(), batch(0, 200)); err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	stop := consume(t, b, "in-order", c)
	got := c.wait(t, 200)
	stop()
	for i, m := range got {
		if want := fmt.Sprintf("ev-%04d", i); m.ID != want || m.Sequence != uint64(i+1) {
			t.Fatalf("message %d = %s seq %d, want %s seq %d", i, m.ID, m.Sequence, want, i+1)
		}
	}
}

func TestDuplicateIDsStoredOnce(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	// A sender that retries a batch after a lost acknowledgement must not
	// create duplicates (the audit webhook backend does exactly that).
	for range 3 {
		if err := b.PublishBatch(t.Context(), batch(0, 10)); err != nil {
			t.Fatal(err)
		}
	}
	info, err := b.stream.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 10 {
		t.Errorf("stream holds %d messages, want 10", info.State.Msgs)
	}
}

func TestFailedHandlerIsRedelivered(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	if err := b.PublishBatch(t.Context(), batch(0, 3)); err != nil {
		t.Fatal(err)
	}
	c := &collector{fail: map[string]int{"ev-0001": 1}}
	stop := consume(t, b, "retry", c)
	got := c.wait(t, 3)
	stop()
	var redelivered *Message
	for i := range got {
		if got[i].ID == "ev-0001" {
			redelivered = &got[i]
		}
	}
	if redelivered == nil || redelivered.Delivered != 2 {
		t.Fatalf("ev-0001 not redelivered after a handler error: %+v", redelivered)
	}
}

// TestNothingLostAcrossRestart stops the embedded server with messages
// acknowledged and unacknowledged, reopens the same store, and expects
// exactly the unacknowledged ones.
func TestNothingLostAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	b := openEmbedded(t, dir)
	if err := b.PublishBatch(t.Context(), batch(0, 20)); err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	stop := consume(t, b, "restart", c)
	c.wait(t, 20)
	stop()
	if err := b.PublishBatch(t.Context(), batch(20, 50)); err != nil {
		t.Fatal(err)
	}
	b.Close()

	b = openEmbedded(t, dir)
	defer b.Close()
	if n, err := b.Pending(t.Context(), "restart"); err != nil || n != 30 {
		t.Fatalf("Pending after restart = %d, %v; want 30", n, err)
	}
	c2 := &collector{}
	stop = consume(t, b, "restart", c2)
	got := c2.wait(t, 30)
	time.Sleep(200 * time.Millisecond) // nothing more may arrive
	stop()
	c2.mu.Lock()
	defer c2.mu.Unlock()
	if len(c2.msgs) != 30 || got[0].ID != "ev-0020" || got[29].ID != "ev-0049" {
		t.Fatalf("after restart got %d messages from %s to %s, want ev-0020..ev-0049", len(c2.msgs), got[0].ID, got[len(got)-1].ID)
	}
}

func TestExternalServer(t *testing.T) {
	// A real NATS server on a loopback TCP port stands in for a cluster.
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("external NATS not ready")
	}
	defer ns.Shutdown()
	b, err := Open(t.Context(), Options{URL: ns.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(t.Context(), "palisade.test.one", "x", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	stop := consume(t, b, "external", c)
	got := c.wait(t, 1)
	stop()
	if string(got[0].Data) != "hello" {
		t.Errorf("data = %q", got[0].Data)
	}
}

func TestPublishRejectsForeignSubject(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	err := b.Publish(t.Context(), "other.subject", "", nil)
	if err == nil || !strings.Contains(err.Error(), "outside palisade.>") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Open(t.Context(), Options{}); err == nil {
		t.Fatal("Open with neither URL nor Dir succeeded")
	}
}
