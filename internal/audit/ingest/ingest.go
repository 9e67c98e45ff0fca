// Package ingest is the server side of audit detection: it consumes the
// audit events the receiver made durable on the bus, stores them for search,
// runs them through the detection engine and stores the alerts. A message is
// acknowledged only after its events and alerts are in the store, so a crash
// at any point redelivers it, and the store's de-duplication (events by
// auditID and stage, alerts by a deterministic ID) makes redelivery harmless.
package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// Pipeline consumes audit records from the bus.
type Pipeline struct {
	Bus    *bus.Bus
	Store  Store
	Engine *audit.Engine
	Logger *slog.Logger

	mu sync.Mutex
	// pending holds alerts raised for a message whose storing failed: the
	// engine will not raise them again on redelivery (it de-duplicates
	// events), so they are kept until they are stored.
	pending map[uint64][]*audit.Alert
}

// Run consumes until ctx is done.
func (p *Pipeline) Run(ctx context.Context) error {
	return p.Bus.Consume(ctx, Consumer, receiver.SubjectPrefix+">", p.Handle)
}

// Handle processes one bus message; see bus.Handler.
func (p *Pipeline) Handle(ctx context.Context, m bus.Message) error {
	var rec receiver.Record
	if err := json.Unmarshal(m.Data, &rec); err != nil {
		// Redelivering cannot fix it; the message stays in the stream for
		// inspection, and the log says where.
		p.logger().Error("undecodable audit record on the bus; skipped", "sequence", m.Sequence, "error", err)
		return nil
	}
	var evs []store.AuditEvent
	var alerts []*audit.Alert
	src := audit.Source{Name: rec.Source, Cluster: rec.Cluster}
	_, err := audit.Decode(ctx, bytes.NewReader(rec.Event), src, func() time.Time { return rec.ReceivedAt }, func(e *audit.Event) error {
		evs = append(evs, storeEvent(e, rec.Event))
		alerts = append(alerts, p.Engine.Process(e)...)
		return nil
	})
	if err != nil {
		p.logger().Error("audit record did not decode; skipped", "sequence", m.Sequence, "cluster", rec.Cluster, "error", err)
		return nil
	}
	p.mu.Lock()
	alerts = append(p.pending[m.Sequence], alerts...)
	delete(p.pending, m.Sequence)
	p.mu.Unlock()
	if err := p.store(ctx, evs, alerts); err != nil {
		p.mu.Lock()
		if p.pending == nil {
			p.pending = map[uint64][]*audit.Alert{}
		}
		p.pending[m.Sequence] = alerts
		p.mu.Unlock()
		return err
	}
	return nil
}

func (p *Pipeline) store(ctx context.Context, evs []store.AuditEvent, alerts []*audit.Alert) error {
	if len(evs) > 0 {
		if _, err := p.Store.AppendAuditEvents(ctx, evs); err != nil {
			return fmt.Errorf("store audit events: %w", err)
		}
	}
	for _, a := range alerts {
		sa, err := storeAlert(a)
		if err != nil {
			return err
		}
		if err := p.Store.PutAlert(ctx, sa); err != nil {
			return fmt.Errorf("store alert %s: %w", a.RuleID, err)
		}
		p.logger().Warn("audit alert", "rule", a.RuleID, "severity", a.Severity.String(), "cluster", a.Cluster, "actor", a.Actor, "evidence", len(a.Evidence))
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
