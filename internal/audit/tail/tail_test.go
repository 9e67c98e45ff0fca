package tail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/bus"
)

// countingBus publishes to a real embedded JetStream and counts every
// message ID handed to it, so a test sees duplicates the bus itself would
// have dropped by ID.
type countingBus struct {
	b  *bus.Bus
	mu sync.Mutex
	n  map[string]int
}

func (c *countingBus) PublishBatch(ctx context.Context, msgs []bus.Message) error {
	if err := c.b.PublishBatch(ctx, msgs); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range msgs {
		c.n[m.ID]++
	}
	return nil
}

func (c *countingBus) published() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

func newBus(t *testing.T) *countingBus {
	t.Helper()
	b, err := bus.Open(t.Context(), bus.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &countingBus{b: b, n: map[string]int{}}
}

func event(i int) string {
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-%05d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list","user":{"username":"admin"},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"requestReceivedTimestamp":"2026-11-25T10:00:00.000000Z","stageTimestamp":"2026-11-25T10:00:00.100000Z"}`+"\n", i)
}

func appendLines(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for i := from; i < to; i++ {
		b.WriteString(event(i))
	}
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
}

// running is a Tailer in a goroutine.
type running struct {
	t    *Tailer
	stop context.CancelFunc
	done chan error
}

func start(t *testing.T, pub receiver.Publisher, path, checkpoint string) *running {
	t.Helper()
	tl, err := New(Options{Path: path, Cluster: "lab", Checkpoint: checkpoint, Publisher: pub, BatchSize: 50, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	r := &running{t: tl, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- tl.Run(ctx) }()
	t.Cleanup(func() { r.halt(t) })
	return r
}

func (r *running) halt(t *testing.T) {
	t.Helper()
	if r.stop == nil {
		return
	}
	r.stop()
	if err := <-r.done; err != nil {
		t.Errorf("tailer: %v", err)
	}
	r.stop = nil
}

// waitEvents waits until the tailer has published n events.
func waitEvents(t *testing.T, r *running, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for r.t.Stats().Events < n {
		if time.Now().After(deadline) {
			t.Fatalf("tailer published %d events, want %d (stats %+v)", r.t.Stats().Events, n, r.t.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkExactlyOnce checks that ids 0..n-1 were each published once and
// that the bus holds each once too.
func checkExactlyOnce(t *testing.T, cb *countingBus, n int) {
	t.Helper()
	got := cb.published()
	for i := range n {
		id := fmt.Sprintf("lab/id-%05d/ResponseComplete", i)
		if got[id] != 1 {
			t.Errorf("%s published %d times, want once", id, got[id])
		}
	}
	if len(got) != n {
		t.Errorf("published %d distinct events, want %d", len(got), n)
	}
	// The bus's own view: consume everything up to a sentinel published last.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := cb.b.Publish(ctx, receiver.SubjectPrefix+"sentinel", "sentinel", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	var mu sync.Mutex
	_ = cb.b.Consume(ctx, "check", receiver.SubjectPrefix+">", func(_ context.Context, m bus.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if m.ID == "sentinel" {
			cancel()
			return nil
		}
		stored[m.ID]++
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if len(stored) != n {
		t.Errorf("bus holds %d distinct events, want %d", len(stored), n)
	}
	for id, c := range stored {
		if c != 1 {
			t.Errorf("bus holds %s %d times", id, c)
		}
	}
}

func TestTail(t *testing.T) {
	tests := []struct {
		name string
		// run writes the log, starting and stopping tailers as it goes,
		// and returns how many distinct events it wrote.
		run func(t *testing.T, pub *countingBus, log, cp string) int
	}{
		{"rotation by rename", func(t *testing.T, pub *countingBus, log, cp string) int {
			appendLines(t, log, 0, 120)
			r := start(t, pub, log, cp)
			waitEvents(t, r, 120)
			// Lines written just before the rename must be read from the
			// rotated file.
			appendLines(t, log, 120, 140)
			if err := os.Rename(log, log+".1"); err != nil {
				t.Fatal(err)
			}
			appendLines(t, log, 140, 200)
			waitEvents(t, r, 200)
			if s := r.t.Stats(); s.Rotations != 1 {
				t.Errorf("rotations = %d, want 1", s.Rotations)
			}
			return 200
		}},
		{"copytruncate", func(t *testing.T, pub *countingBus, log, cp string) int {
			appendLines(t, log, 0, 100)
			r := start(t, pub, log, cp)
			waitEvents(t, r, 100)
			if err := os.Truncate(log, 0); err != nil {
				t.Fatal(err)
			}
			// Written past the old offset before the tailer looks: only
			// the changed first line reveals the truncation.
			appendLines(t, log, 100, 250)
			waitEvents(t, r, 250)
			return 250
		}},
		{"restart mid-file", func(t *testing.T, pub *countingBus, log, cp string) int {
			appendLines(t, log, 0, 175)
			r := start(t, pub, log, cp)
			waitEvents(t, r, 175)
			r.halt(t)
			appendLines(t, log, 175, 300)
			r = start(t, pub, log, cp)
			waitEvents(t, r, 125)
			return 300
		}},
		{"rotated while stopped", func(t *testing.T, pub *countingBus, log, cp string) int {
			appendLines(t, log, 0, 60)
			r := start(t, pub, log, cp)
			waitEvents(t, r, 60)
			r.halt(t)
			appendLines(t, log, 60, 90)
			if err := os.Rename(log, filepath.Join(filepath.Dir(log), "audit-2026-11-25T10-00-00.000.log")); err != nil {
				t.Fatal(err)
			}
			appendLines(t, log, 90, 130)
			r = start(t, pub, log, cp)
			waitEvents(t, r, 70)
			return 130
		}},
		{"partial last line", func(t *testing.T, pub *countingBus, log, cp string) int {
			appendLines(t, log, 0, 10)
			last := event(10)
			f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString(last[:40]); err != nil {
				t.Fatal(err)
			}
			r := start(t, pub, log, cp)
			waitEvents(t, r, 10)
			time.Sleep(100 * time.Millisecond) // ten polls with half a line pending
			if s := r.t.Stats(); s.Events != 10 || s.Malformed != 0 {
				t.Fatalf("with half a line written: %+v, want 10 events and no malformed line", s)
			}
			// A restart while the line is half written resumes before it.
			r.halt(t)
			r = start(t, pub, log, cp)
			if _, err := f.WriteString(last[40:]); err != nil {
				t.Fatal(err)
			}
			waitEvents(t, r, 1)
			return 11
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pub := newBus(t)
			n := tc.run(t, pub, filepath.Join(dir, "audit.log"), filepath.Join(dir, "state", "audit.log.checkpoint"))
			checkExactlyOnce(t, pub, n)
		})
	}
}

// TestMalformedLine checks that a bad line is reported with file:line,
// counted and skipped, and that the tail goes on.
func TestMalformedLine(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	pub := newBus(t)
	appendLines(t, log, 0, 3)
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	huge := `{"kind":"Event","auditID":"big","stage":"ResponseComplete","requestObject":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`
	for _, bad := range []string{`{"kind":"Event","auditID":`, `{"kind":"EventList","items":[]}`, huge, `{"kind":"Event","stage":"ResponseComplete"}`} {
		fmt.Fprintln(f, bad)
	}
	f.Close()
	appendLines(t, log, 3, 6)
	r := start(t, pub, log, filepath.Join(dir, "cp"))
	waitEvents(t, r, 6)
	s := r.t.Stats()
	if s.Malformed != 4 {
		t.Errorf("malformed = %d, want 4", s.Malformed)
	}
	if want := log + ":7: auditID and stage are required"; s.LastMalformed != want {
		t.Errorf("last malformed = %q, want %q", s.LastMalformed, want)
	}
	checkExactlyOnce(t, pub, 6)
}

// TestReusedInode checks that a checkpoint whose file was replaced by one
// with another first line is not trusted: the new file is read whole.
func TestCheckpointHeadMismatch(t *testing.T) {
	dir := t.TempDir()
	log, cp := filepath.Join(dir, "audit.log"), filepath.Join(dir, "cp")
	pub := newBus(t)
	appendLines(t, log, 0, 40)
	r := start(t, pub, log, cp)
	waitEvents(t, r, 40)
	r.halt(t)
	// Same inode, new content longer than the old offset.
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	appendLines(t, log, 40, 100)
	r = start(t, pub, log, cp)
	waitEvents(t, r, 60)
	checkExactlyOnce(t, pub, 100)
}
