package pubsub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	vpubsub "cloud.google.com/go/pubsub/v2"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/audit/connect"
	"github.com/palisade-sec/palisade/internal/audit/connect/pubsub"
	"github.com/palisade-sec/palisade/internal/sharedtest"
)

const sample = "../../../../../shared/audit-samples/envelopes/gke/elastic-integrations__test-k8s-nonmatching-resourcename.log"

// logEntries returns n LogEntries built from the real GKE sample, each with
// its own insertId (the GKE auditID).
func logEntries(t *testing.T, n int) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(sample)
	if err != nil {
		sharedtest.Missing(t, "GKE LogEntry sample not available: %v", err)
	}
	var out [][]byte
	for i := range n {
		var e map[string]any
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		e["insertId"] = fmt.Sprintf("k8s-nonmatch-%04d", i)
		b, _ := json.Marshal(e)
		out = append(out, b)
	}
	return out
}

func TestReceiveAckAfterPublish(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := pstest.NewServer()
	defer srv.Close()
	conn, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	admin, err := vpubsub.NewClient(ctx, "proj", option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	topic := "projects/proj/topics/gke-audit"
	if _, err := admin.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: "projects/proj/subscriptions/palisade", Topic: topic, AckDeadlineSeconds: 10,
	}); err != nil {
		t.Fatal(err)
	}
	entries := logEntries(t, 3)
	for _, e := range entries {
		srv.Publish(topic, e, nil)
	}

	conn2, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	c, err := pubsub.New(pubsub.Options{Cluster: "gke-prod", Project: "proj", Subscription: "palisade", ClientOptions: []option.ClientOption{option.WithGRPCConn(conn2)}})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		failed   bool
		got      = map[string][]byte{}
		attempts int
	)
	done := make(chan struct{})
	publish := func(_ context.Context, cluster string, recs []connect.Record) error {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if !failed {
			failed = true // the first message is nacked and must come back
			return errors.New("bus unavailable")
		}
		for _, r := range recs {
			got[r.ID] = r.Data
		}
		if len(got) == len(entries) && done != nil {
			close(done)
			done = nil
		}
		return nil
	}
	mu.Lock()
	wait := done
	mu.Unlock()
	rctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- c.Run(rctx, publish) }()
	select {
	case <-wait:
	case <-time.After(30 * time.Second):
		t.Error("timed out waiting for the messages")
	}
	// Acks are sent asynchronously; give them a moment before stopping.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !allAcked(srv) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}

	var wantIDs []string
	for i := range entries {
		wantIDs = append(wantIDs, fmt.Sprintf("gke/k8s-nonmatch-%04d/2021-04-23T14:47:07.535383Z", i))
	}
	var gotIDs []string
	for id := range got {
		gotIDs = append(gotIDs, id)
	}
	slices.Sort(gotIDs)
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Errorf("record IDs (-want +got):\n%s", diff)
	}
	if attempts != len(entries)+1 {
		t.Errorf("publish called %d times, want %d (one nack, then each once)", attempts, len(entries)+1)
	}
	for _, m := range srv.Messages() {
		if m.Acks < 1 {
			t.Errorf("message %s never acked", m.ID)
		}
	}
	for id, d := range got {
		var evs []*audit.Event
		if _, err := audit.Decode(ctx, bytes.NewReader(d), audit.Source{Cluster: "gke-prod"}, nil, func(e *audit.Event) error { evs = append(evs, e); return nil }); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if len(evs) != 1 || evs[0].Provider != audit.ProviderGKE || evs[0].Cluster != "gke-prod" {
			t.Errorf("%s decoded to %+v", id, evs)
		}
	}
}

func allAcked(srv *pstest.Server) bool {
	for _, m := range srv.Messages() {
		if m.Acks < 1 {
			return false
		}
	}
	return true
}

func TestRecordID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, data, want string
	}{
		{"log entry", `{"insertId":"abc","timestamp":"2021-01-01T00:00:00Z","logName":"x"}`, "gke/abc/2021-01-01T00:00:00Z"},
		{"no insertId", `{"logName":"x"}`, "pubsub/m1"},
		{"not JSON", `garbage`, "pubsub/m1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pubsub.Record("m1", []byte(tc.data)).ID; got != tc.want {
				t.Errorf("ID = %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzRecord(f *testing.F) {
	f.Add([]byte(`{"insertId":"a","timestamp":"t"}`))
	f.Add([]byte(`{"insertId":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r := pubsub.Record("m", b); r.ID == "" || !bytes.Equal(r.Data, b) {
			t.Fatalf("Record = %+v", r)
		}
	})
}
