package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/bus"
)

// Ack after snapshot. The engine's correlation state (partial sequence
// matches) is written to Pipeline.State at most once per interval, because
// a synced file write per batch would cost more than the batch. A batch
// that changed the state is therefore acknowledged only after a snapshot
// that includes its effects is on disk. After a kill -9, every message the
// saved snapshot does not reflect is still unacknowledged: the bus hands
// those over first (bus.ConsumeBatch), the engine restarts from the
// snapshot and derives the same partial matches again, and the store
// ignores the events and alerts it already has. Alerts are stored before
// the snapshot, so detection latency does not wait for it.
//
// The snapshot records the highest stream sequence it covers; a message at
// or below it that comes again (the snapshot was saved, the acks were
// lost) is stored but not correlated twice.

// snapshotLoop saves snapshots until ctx is done.
func (p *Pipeline) snapshotLoop(ctx context.Context) {
	interval := p.SnapshotInterval
	if interval <= 0 {
		interval = time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := p.snapshot(ctx); err != nil {
			// The held batches stay unacknowledged and are tried again at
			// the next tick; if that takes longer than the bus's ack wait
			// they are redelivered, and the engine skips them as seen.
			p.logger().Error("save correlation state", "file", p.State.Path, "error", err)
		}
	}
}

// snapshot saves the correlation state if it changed since the last save,
// then acknowledges the batches it covers.
func (p *Pipeline) snapshot(ctx context.Context) error {
	p.mu.Lock()
	held := p.held
	p.held = nil
	var ps []audit.PartialMatch
	version := p.Engine.CorrelationVersion()
	changed := version != p.savedVersion
	if changed && p.State != nil {
		ps, version = p.Engine.CorrelationState()
	}
	covers := p.covers
	p.mu.Unlock()
	if p.State == nil || (len(held) == 0 && !changed) {
		return nil
	}
	if changed {
		if err := p.State.SaveSnapshot(audit.Snapshot{Partials: ps, Covers: covers}); err != nil {
			p.mu.Lock()
			p.held = append(held, p.held...)
			p.mu.Unlock()
			return fmt.Errorf("snapshot correlation state: %w", err)
		}
		p.mu.Lock()
		p.savedVersion = max(p.savedVersion, version)
		p.mu.Unlock()
	}
	return ackAll(ctx, held)
}

// ackAll acknowledges batches and returns the first error. A batch whose
// acknowledgement is lost is stored and covered by the snapshot: at worst
// it is delivered again.
func ackAll(ctx context.Context, batches []*bus.Batch) error {
	var first error
	for _, b := range batches {
		if err := b.Ack(ctx); err != nil && first == nil {
			first = fmt.Errorf("acknowledge audit batches: %w", err)
		}
	}
	return first
}
