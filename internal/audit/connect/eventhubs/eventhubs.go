// Package eventhubs pulls AKS audit events from an Event Hub that Azure
// diagnostic settings stream to: each event body is {"records":[…]} of
// resource-log records, of which the categories kube-audit and
// kube-audit-admin carry API server audit events in properties.log.
//
// It reads every partition of the hub on one consumer group and keeps its
// own checkpoint (sequence number per partition), moved only after the bus
// holds a batch. It does not balance partitions between several Palisade
// instances (the SDK's Processor and a blob checkpoint store would): run one
// instance per consumer group. It is tested at the seam (Hub, Checkpoints)
// only; no fake Event Hubs server exists, so it is untested against the
// live service.
package eventhubs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azeventhubs/v2"

	"github.com/palisade-sec/palisade/internal/audit/connect"
)

// Categories are the diagnostic categories that hold audit events.
var categories = map[string]bool{"kube-audit": true, "kube-audit-admin": true}

// Receiver reads one partition; *azeventhubs.PartitionClient implements it.
type Receiver interface {
	ReceiveEvents(ctx context.Context, count int, options *azeventhubs.ReceiveEventsOptions) ([]*azeventhubs.ReceivedEventData, error)
	Close(ctx context.Context) error
}

// Hub lists partitions and opens them; ConsumerHub adapts the SDK client.
type Hub interface {
	Partitions(ctx context.Context) ([]string, error)
	Open(partition string, start azeventhubs.StartPosition) (Receiver, error)
}

// Position is where a partition resumes: after this sequence number.
type Position struct {
	SequenceNumber int64  `json:"sequenceNumber"`
	Offset         string `json:"offset,omitempty"`
}

// Checkpoints stores partition positions.
type Checkpoints interface {
	Load(ctx context.Context) (map[string]Position, error)
	Save(ctx context.Context, partition string, p Position) error
}

// Options configures a Connector.
type Options struct {
	Cluster     string // Palisade's name for the cluster; required
	Checkpoints Checkpoints
	// Latest starts partitions without a checkpoint at new events instead
	// of the oldest retained ones.
	Latest bool
	// BatchSize and BatchWait bound one receive; defaults 100 and 5s.
	BatchSize int
	BatchWait time.Duration
	Backoff   connect.Backoff
	Logger    *slog.Logger
}

// Connector is the Event Hubs connector.
type Connector struct {
	hub    Hub
	opts   Options
	logger *slog.Logger
}

// New builds a Connector reading hub.
func New(hub Hub, opts Options) (*Connector, error) {
	if hub == nil || opts.Cluster == "" || opts.Checkpoints == nil {
		return nil, errors.New("eventhubs connector: a hub, a cluster and a checkpoint store are required")
	}
	opts.BatchSize = cmp.Or(opts.BatchSize, 100)
	opts.BatchWait = cmp.Or(opts.BatchWait, 5*time.Second)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Connector{hub: hub, opts: opts}
	c.logger = opts.Logger.With("component", "audit_connector", "connector", c.Name())
	return c, nil
}

// Name implements connect.Connector.
func (c *Connector) Name() string { return "eventhubs/" + c.opts.Cluster }

// Run implements connect.Connector: one reader per partition.
func (c *Connector) Run(ctx context.Context, publish connect.PublishFunc) error {
	var parts []string
	b := c.opts.Backoff
	for {
		var err error
		if parts, err = c.hub.Partitions(ctx); err == nil {
			break
		}
		c.logger.Warn("list event hub partitions; retrying", "error", err)
		if b.Wait(ctx) != nil {
			return nil
		}
	}
	saved, err := c.opts.Checkpoints.Load(ctx)
	if err != nil {
		return fmt.Errorf("load event hub checkpoints: %w", err)
	}
	var wg sync.WaitGroup
	for _, p := range parts {
		pos, ok := saved[p]
		wg.Go(func() { c.partition(ctx, p, pos, ok, publish) })
	}
	wg.Wait()
	return nil
}

// partition reads one partition until ctx is done, reopening it from the
// last checkpoint after an error.
func (c *Connector) partition(ctx context.Context, id string, pos Position, have bool, publish connect.PublishFunc) {
	b := c.opts.Backoff
	for ctx.Err() == nil {
		start := azeventhubs.StartPosition{Earliest: boolPtr(!c.opts.Latest)}
		if c.opts.Latest {
			start = azeventhubs.StartPosition{Latest: boolPtr(true)}
		}
		if have {
			seq := pos.SequenceNumber
			start = azeventhubs.StartPosition{SequenceNumber: &seq}
		}
		r, err := c.hub.Open(id, start)
		if err != nil {
			c.logger.Warn("open event hub partition; retrying", "partition", id, "error", err)
			if b.Wait(ctx) != nil {
				return
			}
			continue
		}
		err = c.read(ctx, id, r, &pos, &have, publish)
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = r.Close(closeCtx) // the partition is reopened or we are stopping
		cancel()
		if err == nil || ctx.Err() != nil {
			return
		}
		c.logger.Warn("read event hub partition; reopening", "partition", id, "error", err)
		if b.Wait(ctx) != nil {
			return
		}
	}
}

// read receives batches, publishes them and checkpoints each after publish.
func (c *Connector) read(ctx context.Context, id string, r Receiver, pos *Position, have *bool, publish connect.PublishFunc) error {
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, c.opts.BatchWait)
		evs, err := r.ReceiveEvents(rctx, c.opts.BatchSize, nil)
		cancel()
		if len(evs) > 0 {
			if perr := c.commit(ctx, id, evs, publish); perr != nil {
				return perr
			}
			last := evs[len(evs)-1]
			*pos, *have = Position{SequenceNumber: last.SequenceNumber, Offset: last.Offset}, true
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("receive from partition %s: %w", id, err)
		}
	}
	return nil
}

// commit publishes a batch, retrying until the bus holds it, then saves the
// partition's checkpoint past it.
func (c *Connector) commit(ctx context.Context, id string, evs []*azeventhubs.ReceivedEventData, publish connect.PublishFunc) error {
	var recs []connect.Record
	for _, ev := range evs {
		rs, err := Records(id, ev.SequenceNumber, ev.Body)
		if err != nil {
			// Redelivery cannot fix a malformed body: log where and move on.
			c.logger.Warn("skipped malformed event hub event", "partition", id, "sequence", ev.SequenceNumber, "error", err)
		}
		recs = append(recs, rs...)
	}
	b := c.opts.Backoff
	for len(recs) > 0 {
		err := publish(ctx, c.opts.Cluster, recs)
		if err == nil {
			break
		}
		c.logger.Warn("event hub batch not made durable; retrying", "partition", id, "records", len(recs), "error", err)
		if werr := b.Wait(ctx); werr != nil {
			return fmt.Errorf("publish partition %s batch: %w", id, err)
		}
	}
	last := evs[len(evs)-1]
	if err := c.opts.Checkpoints.Save(ctx, id, Position{SequenceNumber: last.SequenceNumber, Offset: last.Offset}); err != nil {
		return fmt.Errorf("checkpoint partition %s: %w", id, err)
	}
	return nil
}

// diagnosticRecord is the part of a resource-log record read here.
type diagnosticRecord struct {
	Category   string `json:"category"`
	Properties struct {
		Log json.RawMessage `json:"log"`
	} `json:"properties"`
}

// Records splits an event body ({"records":[…]}) into the audit records it
// holds; other categories are dropped. Each record is passed on whole, as
// audit.Decode reads AKS records.
func Records(partition string, seq int64, body []byte) ([]connect.Record, error) {
	var env struct {
		Records []json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("decode diagnostic records: %w", err)
	}
	var out []connect.Record
	for i, raw := range env.Records {
		var rec diagnosticRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return out, fmt.Errorf("decode records[%d]: %w", i, err)
		}
		if !categories[rec.Category] {
			continue
		}
		log := []byte(rec.Properties.Log)
		if len(log) > 0 && log[0] == '"' {
			var s string
			if json.Unmarshal(log, &s) == nil {
				log = []byte(s)
			}
		}
		fallback := "aks/" + partition + "/" + strconv.FormatInt(seq, 10) + "/" + strconv.Itoa(i)
		out = append(out, connect.Record{ID: connect.EventID(log, fallback), Data: raw})
	}
	return out, nil
}

func boolPtr(b bool) *bool { return &b }

var _ connect.Connector = (*Connector)(nil)
