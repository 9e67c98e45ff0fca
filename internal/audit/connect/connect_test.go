package connect_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/audit/connect"
	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/bus"
)

func TestEventID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, data, want string }{
		{"audit event", `{"auditID":"a","stage":"ResponseComplete"}`, "a/ResponseComplete"},
		{"no stage", `{"auditID":"a"}`, "fb"},
		{"not JSON", `{`, "fb"},
		{"array", `[1]`, "fb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := connect.EventID([]byte(tc.data), "fb"); got != tc.want {
				t.Errorf("EventID = %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzEventID(f *testing.F) {
	f.Add([]byte(`{"auditID":"a","stage":"ResponseComplete"}`))
	f.Add([]byte(`{"auditID":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if connect.EventID(b, "fb") == "" {
			t.Fatal("empty ID")
		}
	})
}

type fakePublisher struct {
	msgs []bus.Message
	err  error
}

func (f *fakePublisher) PublishBatch(_ context.Context, msgs []bus.Message) error {
	f.msgs = append(f.msgs, msgs...)
	return f.err
}

func TestBusPublish(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p := &fakePublisher{}
	pub := connect.BusPublish(p, "pubsub", func() time.Time { return at })
	if err := pub(t.Context(), "gke.prod", []connect.Record{{ID: "gke/x/t", Data: []byte(`{"insertId":"x"}`)}}); err != nil {
		t.Fatal(err)
	}
	if len(p.msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(p.msgs))
	}
	m := p.msgs[0]
	if m.Subject != receiver.SubjectPrefix+"gke_prod" || m.ID != "gke.prod/gke/x/t" {
		t.Errorf("subject %q id %q", m.Subject, m.ID)
	}
	var rec receiver.Record
	if err := json.Unmarshal(m.Data, &rec); err != nil {
		t.Fatal(err)
	}
	want := receiver.Record{Cluster: "gke.prod", Source: "pubsub", ReceivedAt: at, Event: json.RawMessage(`{"insertId":"x"}`)}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}

	p.err = errors.New("no quorum")
	if err := pub(t.Context(), "c", []connect.Record{{ID: "1", Data: []byte(`{}`)}}); err == nil || !strings.Contains(err.Error(), "no quorum") {
		t.Errorf("err = %v, want the bus's error", err)
	}
	if err := pub(t.Context(), "c", []connect.Record{{ID: "1", Data: []byte(`{`)}}); err == nil {
		t.Error("invalid JSON record published")
	}
}

func TestCheckpointJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "cp.json")
	var v map[string]int
	if err := connect.LoadJSON(path, &v); err != nil || v != nil {
		t.Fatalf("missing file: %v, %v", v, err)
	}
	if err := connect.SaveJSON(path, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if err := connect.LoadJSON(path, &v); err != nil || v["a"] != 1 {
		t.Fatalf("round trip: %v, %v", v, err)
	}
	if err := os.WriteFile(path, []byte("{torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := connect.LoadJSON(path, &v); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt file: err = %v, want one naming %s", err, path)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files left in the checkpoint directory, want 1 (no temp files)", len(entries))
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	b := connect.Backoff{Min: time.Millisecond, Max: 4 * time.Millisecond}
	var waits []time.Duration
	for range 5 {
		start := time.Now()
		if err := b.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		waits = append(waits, time.Since(start))
	}
	if waits[0] < time.Millisecond || waits[4] < 4*time.Millisecond {
		t.Errorf("waits %v: want at least 1ms first and 4ms at the cap", waits)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a cancelled context = %v", err)
	}
}
