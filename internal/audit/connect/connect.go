// Package connect pulls Kubernetes audit events out of managed-cloud log
// services (CloudWatch Logs for EKS, Pub/Sub for GKE, Event Hubs for AKS)
// and hands them to the same durable bus the webhook receiver writes to.
//
// A Connector never decodes audit events itself: it passes each cloud record
// (an EKS audit event, a GKE LogEntry, an AKS diagnostic record) as it came,
// and the ingest pipeline decodes it with audit.Decode like any other
// source. Delivery is at least once: the cloud-side checkpoint or ack moves
// only after Publish returned nil, i.e. after the bus made the records
// durable; the bus's de-duplication IDs absorb what a crash replays.
//
// Each provider lives in its own subpackage so that its SDK is imported
// only where it is used.
package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/bus"
)

// Record is one cloud record to make durable: the payload as the provider
// delivered it and the ID that de-duplicates a replay of it.
type Record struct {
	// ID is stable across redeliveries of the same record ("<auditID>/<stage>"
	// when the record is one audit event, else the provider's record ID).
	ID   string
	Data []byte
}

// PublishFunc makes records of one cluster durable; it returns nil only once
// all of them are.
type PublishFunc func(ctx context.Context, cluster string, records []Record) error

// Connector pulls audit records from one cloud source until ctx is done.
type Connector interface {
	// Name is "<type>/<cluster>", for logs and metrics.
	Name() string
	// Run returns nil when ctx is done, or an error it cannot recover from
	// (bad configuration, missing permissions); transient errors are
	// retried inside with back-off.
	Run(ctx context.Context, publish PublishFunc) error
}

// Publisher is the bus side of PublishFunc; *bus.Bus implements it.
type Publisher interface {
	PublishBatch(ctx context.Context, msgs []bus.Message) error
}

// BusPublish returns the PublishFunc that writes receiver.Records, the
// format the ingest pipeline consumes, tagged with source (the connector
// type). now stamps ReceivedAt; nil means time.Now.
func BusPublish(p Publisher, source string, now func() time.Time) PublishFunc {
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context, cluster string, records []Record) error {
		if len(records) == 0 {
			return nil
		}
		at := now().UTC()
		subject := receiver.SubjectPrefix + receiver.SubjectToken(cluster)
		msgs := make([]bus.Message, 0, len(records))
		for i, r := range records {
			data, err := json.Marshal(receiver.Record{Cluster: cluster, Source: source, ReceivedAt: at, Event: json.RawMessage(r.Data)})
			if err != nil {
				return fmt.Errorf("encode %s record %d (%s): %w", source, i, r.ID, err)
			}
			msgs = append(msgs, bus.Message{Subject: subject, ID: cluster + "/" + r.ID, Data: data})
		}
		if err := p.PublishBatch(ctx, msgs); err != nil {
			return fmt.Errorf("publish %d %s records of %s: %w", len(msgs), source, cluster, err)
		}
		return nil
	}
}

// eventKey is the identity of a Kubernetes audit event.
type eventKey struct {
	AuditID string `json:"auditID"`
	Stage   string `json:"stage"`
}

// EventID returns "<auditID>/<stage>" when data is a Kubernetes audit event,
// the receiver's ID so an event reaching Palisade by two routes is stored
// once; else fallback.
func EventID(data []byte, fallback string) string {
	var k eventKey
	if json.Unmarshal(data, &k) == nil && k.AuditID != "" && k.Stage != "" {
		return k.AuditID + "/" + k.Stage
	}
	return fallback
}
