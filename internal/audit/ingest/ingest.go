// Package ingest is the server side of audit detection: it consumes the
// audit events the receiver made durable on the bus, stores them for search,
// runs them through the detection engine and stores the alerts.
//
// The bus hands over batches (whatever arrived while the previous batch was
// being handled), so a busy pipeline pays one store transaction and one
// acknowledgement round trip per batch, not per event. A batch is
// acknowledged only after its events and alerts are in the store and, when
// correlation state is kept (Pipeline.State), only after a state snapshot
// covering it is on disk: a crash at any point redelivers everything whose
// effects are not durable, and the store's de-duplication (events by auditID
// and stage, alerts by a deterministic ID) makes redelivery harmless.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/bus"
	"github.com/palisade-sec/palisade/internal/store"
)

// Consumer is the durable consumer name on the bus.
const Consumer = "audit-pipeline"

// Store is what the pipeline writes.
type Store interface {
	AppendAuditEvents(ctx context.Context, evs []store.AuditEvent) (int, error)
	PutAlert(ctx context.Context, a store.Alert) error
}

// BatchStore is a Store that also stores events and alerts in one
// transaction (store.AuditStore.AppendAuditBatch). The pipeline uses it when
// its Store has it; a wrapping store without it (alert forwarding) gets one
// AppendAuditEvents per batch and a PutAlert per alert.
type BatchStore interface {
	AppendAuditBatch(ctx context.Context, evs []store.AuditEvent, alerts []store.Alert) (int, error)
}

// Pipeline consumes audit records from the bus.
type Pipeline struct {
	Bus    *bus.Bus
	Store  Store
	Engine *audit.Engine
	Logger *slog.Logger
	// State, when set, keeps the engine's correlation state across
	// restarts: Run restores it, and a batch is acknowledged only once a
	// snapshot covering it is saved (see snapshotter.go). Without it batches
	// are acknowledged as soon as they are stored.
	State *audit.StateFile
	// SnapshotInterval is the most often State is written. Default 1 s.
	SnapshotInterval time.Duration
	// MaxBatch bounds a batch. Default 1000 messages.
	MaxBatch int

	// mu is held while a batch goes through the engine and into the store,
	// and while a snapshot is cut, so a snapshot reflects whole batches.
	mu sync.Mutex
	// covers is the highest stream sequence the engine has processed (or
	// the restored snapshot covered): a redelivered message at or below it
	// is stored again but not correlated again.
	covers uint64
	// savedVersion is the engine's correlation state version that State
	// holds; held are batches stored but waiting for a snapshot.
	savedVersion uint64
	held         []*bus.Batch
	// pending holds alerts raised for a message whose storing failed: the
	// engine will not raise them again on redelivery, so they are kept
	// until they are stored.
	pending map[uint64][]*audit.Alert
}

// Run consumes until ctx is done.
func (p *Pipeline) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.State != nil {
		p.covers = p.Engine.RestoreSnapshot(*p.State, p.logger())
	}
	p.savedVersion = p.Engine.CorrelationVersion()
	p.mu.Unlock()

	snapCtx, stopSnap := context.WithCancel(context.WithoutCancel(ctx))
	snapDone := make(chan struct{})
	go func() { defer close(snapDone); p.snapshotLoop(snapCtx) }()
	err := p.Bus.ConsumeBatch(ctx, Consumer, receiver.SubjectPrefix+">", bus.BatchOptions{MaxBatch: p.MaxBatch}, p.HandleBatch)
	stopSnap()
	<-snapDone
	// The last snapshot and acknowledgements, after the consumer stopped:
	// on a clean shutdown nothing handled is delivered again.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := p.snapshot(fctx); serr != nil && err == nil {
		p.logger().Warn("final correlation snapshot; its batches will be redelivered", "error", serr)
	}
	return err
}

// HandleBatch processes one bus batch; see bus.BatchHandler.
func (p *Pipeline) HandleBatch(ctx context.Context, b *bus.Batch) error {
	p.mu.Lock()
	msgs := p.process(ctx, b.Messages)
	err := p.store(ctx, msgs)
	if err != nil {
		p.keepPendingLocked(msgs)
		p.mu.Unlock()
		return err
	}
	ackNow := p.State == nil
	if !ackNow {
		// A batch that left the correlation state as saved is covered by
		// the saved snapshot already.
		ackNow = p.Engine.CorrelationVersion() == p.savedVersion
		if !ackNow {
			p.held = append(p.held, b)
		}
	}
	p.mu.Unlock()
	if ackNow {
		// Stored: acknowledge even if a shutdown began meanwhile.
		if err := b.Ack(context.WithoutCancel(ctx)); err != nil {
			// At worst it is delivered again.
			p.logger().Warn("acknowledge audit batch", "error", err)
		}
	}
	return nil
}

// message is one bus message's outcome.
type message struct {
	seq    uint64
	events []store.AuditEvent
	alerts []*audit.Alert
}

// keepPendingLocked remembers the alerts of messages that were not stored.
func (p *Pipeline) keepPendingLocked(msgs []message) {
	for _, m := range msgs {
		if len(m.alerts) == 0 {
			continue
		}
		if p.pending == nil {
			p.pending = map[uint64][]*audit.Alert{}
		}
		p.pending[m.seq] = m.alerts
	}
}

// store writes a batch's events and alerts, retrying in place while the
// store fails: the batch stays unacknowledged and later batches wait, which
// keeps the engine and the acknowledgements in stream order. Messages the
// store rejects as invalid are logged and skipped one by one, so that one
// hostile event does not hold the pipeline up forever.
func (p *Pipeline) store(ctx context.Context, msgs []message) error {
	wait := 100 * time.Millisecond
	for {
		err := p.storeAll(ctx, msgs)
		if err == nil {
			return nil
		}
		if errors.Is(err, store.ErrInvalid) && len(msgs) > 1 {
			for _, m := range msgs {
				if err := p.store(ctx, []message{m}); err != nil {
					return err
				}
			}
			return nil
		}
		if errors.Is(err, store.ErrInvalid) {
			p.logger().Error("audit record rejected by the store; skipped", "sequence", msgs[0].seq, "error", err)
			return nil
		}
		p.logger().Warn("store audit batch; retrying", "messages", len(msgs), "retry_in", wait, "error", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("store audit batch: %w (gave up: %w)", err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func (p *Pipeline) storeAll(ctx context.Context, msgs []message) error {
	var evs []store.AuditEvent
	var alerts []store.Alert
	for _, m := range msgs {
		evs = append(evs, m.events...)
		for _, a := range m.alerts {
			sa, err := storeAlert(a)
			if err != nil {
				return err
			}
			alerts = append(alerts, sa)
		}
	}
	if bs, ok := p.Store.(BatchStore); ok {
		if _, err := bs.AppendAuditBatch(ctx, evs, alerts); err != nil {
			return fmt.Errorf("store audit batch: %w", err)
		}
	} else {
		if len(evs) > 0 {
			if _, err := p.Store.AppendAuditEvents(ctx, evs); err != nil {
				return fmt.Errorf("store audit events: %w", err)
			}
		}
		for _, a := range alerts {
			if err := p.Store.PutAlert(ctx, a); err != nil {
				return fmt.Errorf("store alert %s: %w", a.RuleID, err)
			}
		}
	}
	for _, m := range msgs {
		for _, a := range m.alerts {
			p.logger().Warn("audit alert", "rule", a.RuleID, "severity", a.Severity.String(), "cluster", a.Cluster, "actor", a.Actor, "evidence", len(a.Evidence))
		}
	}
	return nil
}

func (p *Pipeline) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

func storeEvent(e *audit.Event, raw []byte) store.AuditEvent {
	return store.AuditEvent{
		AuditID: e.AuditID, Stage: e.Stage, Cluster: e.Cluster,
		ReceivedAt: e.IngestTime, EventTime: e.Time,
		Verb: e.Verb, User: e.Actor.Username,
		Namespace: e.Target.Namespace, Resource: resourceOf(e.Target), Name: e.Target.Name,
		Raw: raw,
	}
}

func resourceOf(t audit.Target) string {
	if t.Subresource != "" {
		return t.Resource + "/" + t.Subresource
	}
	return t.Resource
}

// storeAlert gives an alert an ID derived from its rule and evidence, so
// that raising it again (after a redelivery or restart) updates it.
func storeAlert(a *audit.Alert) (store.Alert, error) {
	raw, err := json.Marshal(a)
	if err != nil {
		return store.Alert{}, fmt.Errorf("encode alert %s: %w", a.RuleID, err)
	}
	sum := sha256.Sum256([]byte(a.Cluster + "\x00" + a.RuleID + "\x00" + strings.Join(a.Evidence, ",")))
	return store.Alert{
		ID: "ALERT-" + strings.ToUpper(hex.EncodeToString(sum[:8])), RuleID: a.RuleID, Severity: a.Severity,
		Cluster: a.Cluster, Title: a.RuleName, CreatedAt: a.Time, EvidenceAuditIDs: a.Evidence, Raw: raw,
	}, nil
}
