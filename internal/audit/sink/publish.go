package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/palisade-sec/palisade/internal/store"
)

// AlertStore is the store interface the audit pipeline writes through.
type AlertStore interface {
	AppendAuditEvents(ctx context.Context, evs []store.AuditEvent) (int, error)
	PutAlert(ctx context.Context, a store.Alert) error
}

// Publisher stores one message durably; *bus.Bus implements it.
type Publisher interface {
	Publish(ctx context.Context, subject, id string, data []byte) error
}

// PublishingStore is the audit pipeline's store with forwarding added: an
// alert is put on the bus (AlertSubjectPrefix+cluster) right after it is
// stored. The pipeline acknowledges an audit message only after PutAlert
// returns, so a crash between storing and publishing redelivers the audit
// message and publishes again; the bus de-duplicates by alert ID.
//
// Forwarding hangs off the store write rather than being a second consumer
// of the audit stream because alerts exist only after detection, and
// detection state (sequences, thresholds) lives in one engine.
type PublishingStore struct {
	AlertStore
	Bus Publisher
}

// PutAlert stores a and publishes it for the sinks.
func (p *PublishingStore) PutAlert(ctx context.Context, a store.Alert) error {
	if err := p.AlertStore.PutAlert(ctx, a); err != nil {
		return err
	}
	fa, err := AuditAlert(a)
	if err != nil {
		return err
	}
	return Publish(ctx, p.Bus, &fa)
}

// Publish puts a on the bus for the forwarder, under
// AlertSubjectPrefix+cluster. The message ID is the alert's, so the bus
// drops a republication of the same alert within its de-duplication
// window.
func Publish(ctx context.Context, bus Publisher, a *Alert) error {
	data, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert %s: %w", a.ID, err)
	}
	if err := bus.Publish(ctx, AlertSubjectPrefix+subjectToken(a.Cluster), "alert/"+a.ID, data); err != nil {
		return fmt.Errorf("publish alert %s for forwarding: %w", a.ID, err)
	}
	return nil
}

// AuditAlert is the forwarded form of a stored audit alert: its raw audit
// alert with the store ID and the source added.
func AuditAlert(a store.Alert) (Alert, error) {
	fa := Alert{ID: a.ID, Source: SourceAudit}
	if err := json.Unmarshal(a.Raw, &fa.Alert); err != nil {
		return Alert{}, fmt.Errorf("decode stored alert %s: %w", a.ID, err)
	}
	return fa, nil
}

var notSubjectSafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// subjectToken makes a name safe as one NATS subject token.
func subjectToken(s string) string {
	s = notSubjectSafe.ReplaceAllString(s, "_")
	if s == "" {
		return "_"
	}
	return s
}
