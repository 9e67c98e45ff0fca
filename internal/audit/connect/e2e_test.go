package connect_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/audit/audittest"
	"github.com/palisade-sec/palisade/internal/audit/connect"
	"github.com/palisade-sec/palisade/internal/audit/connect/eventhubs"
	"github.com/palisade-sec/palisade/internal/audit/connect/pubsub"
	"github.com/palisade-sec/palisade/internal/audit/ingest"
	"github.com/palisade-sec/palisade/internal/sharedtest"
	"github.com/palisade-sec/palisade/internal/store"
)

const samples = "../../../../shared/audit-samples/envelopes/"

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(samples + name)
	if err != nil {
		sharedtest.Missing(t, "envelope sample not available: %v", err)
	}
	return b
}

// TestBusToStore publishes what each connector produces, twice, through
// BusPublish onto a real bus, and checks the ingest pipeline stores each
// event once under its cluster.
func TestBusToStore(t *testing.T) {
	ctx := t.Context()
	b, st := audittest.Stack(t)
	engine := audittest.Engine(t)

	gke := pubsub.Record("m-1", readSample(t, "gke/elastic-integrations__test-k8s-nonmatching-resourcename.log"))
	aksBody, err := json.Marshal(map[string]any{"records": []json.RawMessage{readSample(t, "aks/dynatrace-azure-log-forwarder__kube_audit_record.fragment.json")}})
	if err != nil {
		t.Fatal(err)
	}
	aks, err := eventhubs.Records("0", 1, aksBody)
	if err != nil || len(aks) != 1 {
		t.Fatalf("AKS records = %d, %v", len(aks), err)
	}
	eksEvent := readSample(t, "eks/elastic-integrations__test-eks-audit-arn.log")
	eks := connect.Record{ID: connect.EventID(eksEvent, "x"), Data: eksEvent}

	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for range 2 { // a replay after a crash before the cloud-side ack
		if err := connect.BusPublish(b, "pubsub", func() time.Time { return at })(ctx, "gke-prod", []connect.Record{gke}); err != nil {
			t.Fatal(err)
		}
		if err := connect.BusPublish(b, "eventhubs", nil)(ctx, "aks-prod", aks); err != nil {
			t.Fatal(err)
		}
		if err := connect.BusPublish(b, "cloudwatch", nil)(ctx, "eks-prod", []connect.Record{eks}); err != nil {
			t.Fatal(err)
		}
	}

	p := &ingest.Pipeline{Bus: b, Store: st, Engine: engine}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	var evs []store.AuditEvent
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		evs, _ = st.QueryAuditEvents(ctx, store.AuditQuery{})
		if n, err := b.Pending(ctx, ingest.Consumer); len(evs) >= 3 && err == nil && n == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	evs, err = st.QueryAuditEvents(ctx, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Cluster+" "+e.AuditID)
	}
	slices.Sort(got)
	want := []string{
		"aks-prod 7df19974-f894-454b-a1f2-137258598c45",
		"eks-prod arn-log-group",
		"gke-prod k8s-nonmatch-0001",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored events (-want +got):\n%s", diff)
	}
}
