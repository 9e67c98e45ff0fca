// Package bus is Palisade's durable event log: NATS JetStream, embedded in
// the process (file storage under the data directory) or an external NATS
// cluster by URL. Nothing here is a home-made queue: publishing returns only
// once JetStream has stored the message, and consumers acknowledge each
// message after handling it, so a crash at any point loses nothing that was
// acknowledged to a sender.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// StreamName is the JetStream stream every Palisade subject lives in.
const StreamName = "PALISADE"

// SubjectPrefix starts every subject on the bus, e.g. "palisade.audit.prod".
const SubjectPrefix = "palisade."

// Options configures Open.
type Options struct {
	// URL of an external NATS server or cluster ("nats://a:4222,nats://b:4222").
	// Empty runs an embedded server storing in Dir.
	URL string
	// Dir is the embedded server's JetStream store directory.
	Dir string
	// MaxAge and MaxBytes bound retention; the oldest messages go first.
	// Defaults: 7 days, 1 GiB.
	MaxAge   time.Duration
	MaxBytes int64
	// DuplicateWindow is how long a message ID is remembered for
	// de-duplication (an audit event's auditID+stage). Default 10 minutes.
	DuplicateWindow time.Duration
	// Replicas is the stream replica count on a cluster. Default 1.
	Replicas int
	Logger   *slog.Logger
}

// Message is one stored event.
type Message struct {
	Subject string
	ID      string // the publisher's de-duplication ID, if any
	Data    []byte
	// Sequence is the stream sequence number: increasing, unique.
	Sequence uint64
	// Delivered counts deliveries of this message, 1 on the first.
	Delivered uint64
}

// Handler handles one message. Returning nil acknowledges it; an error makes
// JetStream redeliver it after a back-off.
type Handler func(ctx context.Context, m Message) error

// Bus publishes to and consumes from the stream.
type Bus struct {
	opts     Options
	logger   *slog.Logger
	embedded *embeddedServer
	nc       *nats.Conn
	js       jetstream.JetStream
	stream   jetstream.Stream
	// sync makes the embedded bus's publishes durable; nil for an external
	// server, whose replicas are its durability.
	sync *groupSync
}

// Open connects to (or starts) NATS and creates or updates the stream.
func Open(ctx context.Context, opts Options) (*Bus, error) {
	if opts.MaxAge == 0 {
		opts.MaxAge = 7 * 24 * time.Hour
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 1 << 30
	}
	if opts.DuplicateWindow == 0 {
		opts.DuplicateWindow = 10 * time.Minute
	}
	if opts.Replicas == 0 {
		opts.Replicas = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Bus{opts: opts, logger: opts.Logger.With("component", "bus")}
	var err error
	if opts.URL == "" {
		if opts.Dir == "" {
			return nil, errors.New("open bus: an embedded bus needs a store directory")
		}
		if b.embedded, err = startEmbedded(opts.Dir, b.logger); err != nil {
			return nil, err
		}
		b.nc, err = nats.Connect("", nats.InProcessServer(b.embedded.ns), nats.Name("palisade"))
		b.sync = newGroupSync(streamBlockDir(opts.Dir, StreamName))
	} else {
		b.nc, err = nats.Connect(opts.URL, nats.Name("palisade"), nats.MaxReconnects(-1))
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	if b.js, err = jetstream.New(b.nc); err != nil {
		b.Close()
		return nil, fmt.Errorf("open JetStream: %w", err)
	}
	b.stream, err = b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "Palisade events: audit events, scan results, alerts",
		Subjects:    []string{SubjectPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      opts.MaxAge,
		MaxBytes:    opts.MaxBytes,
		Duplicates:  opts.DuplicateWindow,
		Replicas:    opts.Replicas,
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("create stream %s: %w", StreamName, err)
	}
	return b, nil
}

// Publish stores one message and returns once JetStream has it. A message
// whose id was already published within the duplicate window is stored once.
func (b *Bus) Publish(ctx context.Context, subject, id string, data []byte) error {
	return b.PublishBatch(ctx, []Message{{Subject: subject, ID: id, Data: data}})
}

// PublishBatch stores messages and returns once every one is durable, or the
// first error. The messages are sent pipelined, not one round trip each; on
// error some may be stored, which is safe to retry because of their IDs.
func (b *Bus) PublishBatch(ctx context.Context, msgs []Message) error {
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for _, m := range msgs {
		if len(m.Subject) <= len(SubjectPrefix) || m.Subject[:len(SubjectPrefix)] != SubjectPrefix {
			return fmt.Errorf("publish: subject %q is outside %s>", m.Subject, SubjectPrefix)
		}
		var opts []jetstream.PublishOpt
		if m.ID != "" {
			opts = append(opts, jetstream.WithMsgID(m.ID))
		}
		f, err := b.js.PublishAsync(m.Subject, m.Data, opts...)
		if err != nil {
			return fmt.Errorf("publish to %s: %w", m.Subject, err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("publish to %s: %w", f.Msg().Subject, err)
		case <-ctx.Done():
			return fmt.Errorf("publish: waiting for acknowledgement: %w", ctx.Err())
		}
	}
	if b.sync != nil && len(futures) > 0 {
		if err := b.sync.wait(ctx); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
	}
	return nil
}

// Consume runs handler for every message on subjects matching filter (e.g.
// "palisade.audit.>"), under the durable consumer name, until ctx is done.
// A durable consumer resumes where it left off after a restart; messages
// not acknowledged before a crash are delivered again.
func (b *Bus) Consume(ctx context.Context, durable, filter string, handler Handler) error {
	cons, err := b.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       durable,
		FilterSubject: filter,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxDeliver:    -1,
		BackOff:       []time.Duration{time.Second, 5 * time.Second, 30 * time.Second},
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("create consumer %s: %w", durable, err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		meta, err := msg.Metadata()
		if err != nil {
			b.logger.Error("message without JetStream metadata", "subject", msg.Subject(), "error", err)
			_ = msg.Term()
			return
		}
		m := Message{
			Subject: msg.Subject(), ID: msg.Headers().Get(jetstream.MsgIDHeader), Data: msg.Data(),
			Sequence: meta.Sequence.Stream, Delivered: meta.NumDelivered,
		}
		if err := handler(ctx, m); err != nil {
			b.logger.Warn("handler failed; message will be redelivered", "consumer", durable, "sequence", m.Sequence, "error", err)
			_ = msg.Nak()
			return
		}
		// The handler's work is done: acknowledge it even when ctx was
		// cancelled meanwhile, or a shutdown would redeliver handled work.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := msg.DoubleAck(actx); err != nil {
			b.logger.Warn("acknowledge message", "consumer", durable, "sequence", m.Sequence, "error", err)
		}
	})
	if err != nil {
		return fmt.Errorf("consume %s: %w", durable, err)
	}
	<-ctx.Done()
	cc.Drain()
	<-cc.Closed()
	return nil
}

// Pending returns how many messages the durable consumer has yet to see
// plus those delivered but not yet acknowledged.
func (b *Bus) Pending(ctx context.Context, durable string) (uint64, error) {
	cons, err := b.stream.Consumer(ctx, durable)
	if err != nil {
		return 0, fmt.Errorf("look up consumer %s: %w", durable, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("read consumer %s: %w", durable, err)
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// Ping reports whether the bus can take messages, for readiness checks.
func (b *Bus) Ping(ctx context.Context) error {
	if _, err := b.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("bus: %w", err)
	}
	return nil
}

// Close disconnects and, for an embedded server, shuts it down after
// flushing its store.
func (b *Bus) Close() error {
	if b.nc != nil {
		b.nc.Close()
	}
	if b.embedded != nil {
		b.embedded.shutdown()
	}
	return nil
}
