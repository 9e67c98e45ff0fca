package eventhubs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/audit/connect"
	"github.com/palisade-sec/palisade/internal/audit/connect/eventhubs"
	"github.com/palisade-sec/palisade/internal/sharedtest"
)

const sample = "../../../../../shared/audit-samples/envelopes/aks/dynatrace-azure-log-forwarder__kube_audit_record.fragment.json"

// aksRecord returns the real AKS kube-audit record with auditID id, in the
// given category.
func aksRecord(t *testing.T, id, category string) json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile(sample)
	if err != nil {
		sharedtest.Missing(t, "AKS diagnostic record sample not available: %v", err)
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	props := rec["properties"].(map[string]any)
	var ev map[string]any
	if err := json.Unmarshal([]byte(props["log"].(string)), &ev); err != nil {
		t.Fatal(err)
	}
	ev["auditID"] = id
	log, _ := json.Marshal(ev)
	props["log"] = string(log) + "\n"
	rec["category"] = category
	out, _ := json.Marshal(rec)
	return out
}

func body(t *testing.T, recs ...json.RawMessage) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"records": recs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeHub holds each partition's events; sequence numbers are indexes.
type fakeHub struct {
	mu       sync.Mutex
	parts    map[string][][]byte
	opens    []string // "partition@start"
	failNext map[string]bool
}

func (h *fakeHub) Partitions(context.Context) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for id := range h.parts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

func (h *fakeHub) Open(p string, start azeventhubs.StartPosition) (eventhubs.Receiver, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	next := int64(0)
	desc := "earliest"
	switch {
	case start.SequenceNumber != nil:
		next = *start.SequenceNumber + 1
		desc = fmt.Sprint(*start.SequenceNumber)
		if start.Inclusive {
			next--
		}
	case start.Latest != nil && *start.Latest:
		next, desc = int64(len(h.parts[p])), "latest"
	}
	h.opens = append(h.opens, p+"@"+desc)
	return &fakeReceiver{hub: h, part: p, next: next}, nil
}

type fakeReceiver struct {
	hub  *fakeHub
	part string
	next int64
}

func (r *fakeReceiver) ReceiveEvents(ctx context.Context, count int, _ *azeventhubs.ReceiveEventsOptions) ([]*azeventhubs.ReceivedEventData, error) {
	r.hub.mu.Lock()
	if r.hub.failNext[r.part] {
		delete(r.hub.failNext, r.part)
		r.hub.mu.Unlock()
		return nil, errors.New("amqp link detached")
	}
	evs := r.hub.parts[r.part]
	var out []*azeventhubs.ReceivedEventData
	for ; r.next < int64(len(evs)) && len(out) < count; r.next++ {
		out = append(out, &azeventhubs.ReceivedEventData{
			EventData:      azeventhubs.EventData{Body: evs[r.next]},
			SequenceNumber: r.next, Offset: fmt.Sprint(r.next * 1000),
		})
	}
	r.hub.mu.Unlock()
	if len(out) > 0 {
		return out, nil
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func (r *fakeReceiver) Close(context.Context) error { return nil }

// memCheckpoints is an in-memory Checkpoints that logs saves.
type memCheckpoints struct {
	mu  sync.Mutex
	pos map[string]eventhubs.Position
	log *[]string
}

func (m *memCheckpoints) Load(context.Context) (map[string]eventhubs.Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]eventhubs.Position{}
	for k, v := range m.pos {
		out[k] = v
	}
	return out, nil
}

func (m *memCheckpoints) Save(_ context.Context, p string, pos eventhubs.Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pos[p] = pos
	*m.log = append(*m.log, fmt.Sprintf("save %s@%d", p, pos.SequenceNumber))
	return nil
}

// sink is a PublishFunc logging into the same log as the checkpoints.
type sink struct {
	mu   *sync.Mutex
	log  *[]string
	ids  []string
	data [][]byte
	fail int
}

func (s *sink) publish(_ context.Context, cluster string, recs []connect.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		*s.log = append(*s.log, "publish failed")
		return errors.New("bus unavailable")
	}
	for _, r := range recs {
		s.ids = append(s.ids, r.ID)
		s.data = append(s.data, r.Data)
	}
	*s.log = append(*s.log, fmt.Sprintf("publish %d", len(recs)))
	return nil
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

func runUntil(t *testing.T, c *eventhubs.Connector, s *sink, want int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx, s.publish) }()
	deadline := time.Now().Add(10 * time.Second)
	for s.count() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(30 * time.Millisecond) // nothing more may arrive
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestConnector(t *testing.T) {
	t.Parallel()
	hub := &fakeHub{parts: map[string][][]byte{
		"0": {body(t, aksRecord(t, "a-1", "kube-audit"), aksRecord(t, "x-1", "kube-apiserver"))},
		"1": {body(t, aksRecord(t, "b-1", "kube-audit-admin")), []byte("not json")},
	}, failNext: map[string]bool{"1": true}}
	var mu sync.Mutex
	var log []string
	cps := &memCheckpoints{pos: map[string]eventhubs.Position{}, log: &log}
	s := &sink{mu: &mu, log: &log, fail: 1}
	newConn := func() *eventhubs.Connector {
		c, err := eventhubs.New(hub, eventhubs.Options{Cluster: "aks-prod", Checkpoints: &lockedCP{cps, &mu}, BatchWait: 20 * time.Millisecond,
			Backoff: connect.Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	runUntil(t, newConn(), s, 2)

	slices.Sort(s.ids)
	if diff := cmp.Diff([]string{"a-1/ResponseComplete", "b-1/ResponseComplete"}, s.ids); diff != "" {
		t.Errorf("first run IDs (-want +got):\n%s", diff)
	}
	// The first publish failed: no checkpoint may precede a successful publish.
	mu.Lock()
	published := false
	for _, l := range log {
		if strings.HasPrefix(l, "publish ") && l != "publish failed" {
			published = true
		}
		if strings.HasPrefix(l, "save") && !published {
			t.Errorf("checkpoint before any publish: %q", log)
		}
	}
	mu.Unlock()
	wantCP := map[string]eventhubs.Position{"0": {SequenceNumber: 0, Offset: "0"}, "1": {SequenceNumber: 1, Offset: "1000"}}
	if diff := cmp.Diff(wantCP, cps.pos); diff != "" {
		t.Errorf("checkpoints (-want +got):\n%s", diff)
	}
	for i, d := range s.data {
		var evs []*audit.Event
		if _, err := audit.Decode(t.Context(), bytes.NewReader(d), audit.Source{Cluster: "aks-prod"}, nil, func(e *audit.Event) error { evs = append(evs, e); return nil }); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if len(evs) != 1 || evs[0].Provider != audit.ProviderAKS || evs[0].Cluster != "aks-prod" {
			t.Errorf("record %d decoded to %+v", i, evs)
		}
	}

	// Restart: resume after the checkpoints, only the new event arrives.
	hub.mu.Lock()
	hub.parts["0"] = append(hub.parts["0"], body(t, aksRecord(t, "a-2", "kube-audit")))
	hub.opens = nil
	hub.mu.Unlock()
	s2 := &sink{mu: &mu, log: &log}
	runUntil(t, newConn(), s2, 1)
	if diff := cmp.Diff([]string{"a-2/ResponseComplete"}, s2.ids); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
	slices.Sort(hub.opens)
	if diff := cmp.Diff([]string{"0@0", "1@1"}, hub.opens); diff != "" {
		t.Errorf("reopened at (-want +got):\n%s", diff)
	}
}

// lockedCP serializes the checkpoint log with the sink's.
type lockedCP struct {
	m  *memCheckpoints
	mu *sync.Mutex
}

func (l *lockedCP) Load(ctx context.Context) (map[string]eventhubs.Position, error) {
	return l.m.Load(ctx)
}

func (l *lockedCP) Save(ctx context.Context, p string, pos eventhubs.Position) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m.Save(ctx, p, pos)
}

func TestRecords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		body    string
		want    []string
		wantErr string
	}{
		{"audit and other categories", `{"records":[{"category":"kube-audit","properties":{"log":"{\"auditID\":\"x\",\"stage\":\"ResponseComplete\"}"}},{"category":"guard","properties":{"log":"x"}}]}`, []string{"x/ResponseComplete"}, ""},
		{"log as object", `{"records":[{"category":"kube-audit-admin","properties":{"log":{"auditID":"y","stage":"ResponseStarted"}}}]}`, []string{"y/ResponseStarted"}, ""},
		{"no audit identity", `{"records":[{"category":"kube-audit","properties":{"log":"{\"kind\":\"Event\"}"}}]}`, []string{"aks/3/7/0"}, ""},
		{"not JSON", `nope`, nil, "decode diagnostic records"},
		{"bad record", `{"records":[1]}`, nil, "records[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := eventhubs.Records("3", 7, []byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.ID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzRecords(f *testing.F) {
	f.Add([]byte(`{"records":[{"category":"kube-audit","properties":{"log":"{}"}}]}`))
	f.Add([]byte(`{"records":[{"category":"kube-audit","properties":{"log":"\"x"}}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := eventhubs.Records("0", 0, b)
		if err != nil && len(recs) > 0 && !strings.Contains(err.Error(), "records[") {
			t.Fatalf("records with a whole-body error: %v", err)
		}
		for _, r := range recs {
			if r.ID == "" {
				t.Fatal("record without ID")
			}
		}
	})
}

func TestFileCheckpoints(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/eh.json"
	f := &eventhubs.FileCheckpoints{Path: path}
	if got, err := f.Load(t.Context()); err != nil || len(got) != 0 {
		t.Fatalf("Load of no file = %v, %v", got, err)
	}
	if err := f.Save(t.Context(), "0", eventhubs.Position{SequenceNumber: 5, Offset: "5000"}); err != nil {
		t.Fatal(err)
	}
	got, err := (&eventhubs.FileCheckpoints{Path: path}).Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]eventhubs.Position{"0": {SequenceNumber: 5, Offset: "5000"}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
