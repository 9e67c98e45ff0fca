package ingest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/audit/audittest"
	"github.com/palisade-sec/palisade/internal/store"
)

// TestLargeBatchInOrder sends a few hundred events in one go, so that the
// pipeline gets them as large batches decoded in parallel, with the three
// steps of a sequence far apart: the sequence completes only if correlation
// still sees the events in stream order.
func TestLargeBatchInOrder(t *testing.T) {
	ctx := t.Context()
	b, st := audittest.Stack(t)
	steps := sequenceSteps()
	var events []string
	for i := range 400 {
		switch i {
		case 20:
			events = append(events, steps[0])
		case 200:
			events = append(events, steps[1])
		case 380:
			events = append(events, steps[2])
		}
		events = append(events, strings.Replace(benign, "0b1c2d3e-0000-4000-8000-000000000002", fmt.Sprintf("bulk-%04d", i), 1))
	}
	post(t, b, events)
	p := &Pipeline{Bus: b, Store: st, Engine: audittest.Engine(t)}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs, _ := st.QueryAuditEvents(ctx, store.AuditQuery{Cluster: "prod"})
		if n, err := b.Pending(ctx, Consumer); len(evs) == len(events) && err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store holds %d events, want %d", len(evs), len(events))
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, want := sequenceEvidence(t, st), []string{"s1", "s2", "s3"}; !slices.Equal(got, want) {
		t.Errorf("sequence evidence = %v, want %v", got, want)
	}
}
