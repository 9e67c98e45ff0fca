package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BatchOptions configures ConsumeBatch.
type BatchOptions struct {
	// MaxBatch bounds the messages of one handler call. Default 1000.
	MaxBatch int
	// MaxWait is how long a batch waits for more messages once its first
	// has arrived. Default 0: a batch is what has arrived by the time the
	// handler is free, so a busy consumer gets big batches and an idle one
	// adds no latency.
	MaxWait time.Duration
	// MaxAckPending bounds the messages delivered but not yet acknowledged;
	// JetStream stops delivering at that many. A handler that acknowledges
	// late (after a snapshot) needs room for everything it holds meanwhile.
	// Default 100,000: two seconds of a 50,000 events/s stream.
	MaxAckPending int
}

func (o BatchOptions) withDefaults() BatchOptions {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1000
	}
	if o.MaxAckPending <= 0 {
		o.MaxAckPending = 100_000
	}
	return o
}

// BatchAckWait is how long JetStream waits for a batch consumer's
// acknowledgement before delivering a message again.
const BatchAckWait = 30 * time.Second

// Batch is messages delivered together, in stream order.
type Batch struct {
	Messages []Message

	nc   *nats.Conn
	msgs []jetstream.Msg // nil for replayed messages; see ConsumeBatch
	once sync.Once
	err  error
}

// Ack acknowledges every message of the batch: one asynchronous ack each,
// then one round trip that returns when the server has taken them all, so
// a batch costs one round trip, not one per message. It may be called from
// any goroutine; calls after the first return the first's result.
func (b *Batch) Ack(ctx context.Context) error {
	b.once.Do(func() { b.err = b.ack(ctx) })
	return b.err
}

func (b *Batch) ack(ctx context.Context) error {
	if len(b.msgs) == 0 {
		return nil
	}
	for i, m := range b.msgs {
		if err := m.Ack(); err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
			return fmt.Errorf("acknowledge message %d: %w", b.Messages[i].Sequence, err)
		}
	}
	if _, ok := ctx.Deadline(); !ok { // FlushWithContext insists on one
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("acknowledge %d messages: flush: %w", len(b.msgs), err)
	}
	return nil
}

// nak asks for every message of the batch again after delay.
func (b *Batch) nak(delay time.Duration) {
	for _, m := range b.msgs {
		_ = m.NakWithDelay(delay)
	}
}

// BatchHandler handles a batch. Returning an error makes JetStream deliver
// the batch again after a second. Returning nil hands the acknowledgement
// to the handler: it calls Batch.Ack at once or later, once the batch's
// effects are durable (e.g. after a snapshot that covers them), but within
// BatchAckWait, or the messages are delivered again.
type BatchHandler func(ctx context.Context, b *Batch) error

// ConsumeBatch runs handler on batches of the messages on subjects matching
// filter, under the durable consumer name, until ctx is done. Batches come
// one at a time, in stream order.
//
// A restart resumes after the last message acknowledged in order. The
// messages delivered but not acknowledged before a crash come first, in
// stream order, before anything newer: they are read back from the stream
// (Message.Delivered is 0 for these) rather than waited for, because
// JetStream would only redeliver them once their BatchAckWait expired, after
// newer messages, and a handler that keeps state across messages (sequence
// correlation) needs them in order. Such a replayed message is delivered
// once more by JetStream later; handlers must be idempotent, which
// at-least-once delivery asks of them anyway.
func (b *Bus) ConsumeBatch(ctx context.Context, durable, filter string, opts BatchOptions, handler BatchHandler) error {
	opts = opts.withDefaults()
	// No BackOff: JetStream would use its first step as the wait for every
	// acknowledgement, and a handler acknowledging after a snapshot needs
	// the full BatchAckWait. Updating a durable that Consume created keeps
	// its position.
	cons, err := b.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       durable,
		FilterSubject: filter,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       BatchAckWait,
		MaxDeliver:    -1,
		MaxAckPending: opts.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("create consumer %s: %w", durable, err)
	}
	if err := b.replayUnacked(ctx, cons, durable, filter, opts.MaxBatch, handler); err != nil {
		return err
	}

	// The NATS callback only queues; batches are cut and handled on this
	// goroutine, so a slow handler makes the queue, then JetStream, wait.
	queue := make(chan jetstream.Msg, opts.MaxBatch)
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		select {
		case queue <- msg:
		case <-ctx.Done():
		}
	}, jetstream.PullMaxMessages(opts.MaxBatch))
	if err != nil {
		return fmt.Errorf("consume %s: %w", durable, err)
	}
	defer func() {
		cc.Stop()
		<-cc.Closed()
	}()
	var timer *time.Timer
	for {
		var first jetstream.Msg
		select {
		case <-ctx.Done():
			return nil
		case first = <-queue:
		}
		msgs := []jetstream.Msg{first}
		if opts.MaxWait > 0 {
			timer = resetTimer(timer, opts.MaxWait)
		}
	gather:
		for len(msgs) < opts.MaxBatch {
			select {
			case m := <-queue:
				msgs = append(msgs, m)
				continue
			default:
			}
			if opts.MaxWait <= 0 {
				break
			}
			select {
			case m := <-queue:
				msgs = append(msgs, m)
			case <-timer.C:
				break gather
			case <-ctx.Done():
				break gather
			}
		}
		if ctx.Err() != nil {
			// Left unacknowledged: the next start replays them first.
			return nil
		}
		b.handleBatch(ctx, durable, msgs, handler)
	}
}

func resetTimer(t *time.Timer, d time.Duration) *time.Timer {
	if t == nil {
		return time.NewTimer(d)
	}
	t.Reset(d) // since Go 1.23 Reset also drops a stale tick
	return t
}

func (b *Bus) handleBatch(ctx context.Context, durable string, msgs []jetstream.Msg, handler BatchHandler) {
	batch := &Batch{nc: b.nc, Messages: make([]Message, 0, len(msgs)), msgs: make([]jetstream.Msg, 0, len(msgs))}
	for _, msg := range msgs {
		meta, err := msg.Metadata()
		if err != nil {
			b.logger.Error("message without JetStream metadata", "subject", msg.Subject(), "error", err)
			_ = msg.Term()
			continue
		}
		batch.msgs = append(batch.msgs, msg)
		batch.Messages = append(batch.Messages, Message{
			Subject: msg.Subject(), ID: msg.Headers().Get(jetstream.MsgIDHeader), Data: msg.Data(),
			Sequence: meta.Sequence.Stream, Delivered: meta.NumDelivered,
		})
	}
	if len(batch.Messages) == 0 {
		return
	}
	if err := handler(ctx, batch); err != nil {
		first, last := batch.Messages[0].Sequence, batch.Messages[len(batch.Messages)-1].Sequence
		b.logger.Warn("batch handler failed; the batch will be redelivered", "consumer", durable,
			"first_sequence", first, "last_sequence", last, "error", err)
		batch.nak(time.Second)
	}
}

// replayUnacked hands handler the messages the consumer delivered but has
// no acknowledgement for, read from the stream in order; see ConsumeBatch.
// Their acknowledgement is JetStream's later redelivery.
func (b *Bus) replayUnacked(ctx context.Context, cons jetstream.Consumer, durable, filter string, maxBatch int, handler BatchHandler) error {
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("read consumer %s: %w", durable, err)
	}
	from, to := info.AckFloor.Stream+1, info.Delivered.Stream
	if info.NumAckPending == 0 || to < from {
		return nil
	}
	b.logger.Info("replaying unacknowledged messages", "consumer", durable, "first_sequence", from, "last_sequence", to)
	batch := &Batch{}
	flush := func() error {
		if len(batch.Messages) == 0 {
			return nil
		}
		if err := handler(ctx, batch); err != nil {
			return fmt.Errorf("replay unacknowledged messages of %s: %w", durable, err)
		}
		batch = &Batch{}
		return nil
	}
	for seq := from; seq <= to; seq++ {
		if err := ctx.Err(); err != nil {
			return nil
		}
		raw, err := b.stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // deleted by the stream's limits
		}
		if err != nil {
			return fmt.Errorf("replay unacknowledged messages of %s: read %d: %w", durable, seq, err)
		}
		if !subjectMatches(filter, raw.Subject) {
			continue
		}
		batch.Messages = append(batch.Messages, Message{Subject: raw.Subject, ID: raw.Header.Get(jetstream.MsgIDHeader), Data: raw.Data, Sequence: raw.Sequence})
		if len(batch.Messages) == maxBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// subjectMatches reports whether subject matches a NATS subject filter
// with "*" (one token) and ">" (one or more trailing tokens) wildcards.
func subjectMatches(filter, subject string) bool {
	if filter == "" {
		return true
	}
	ft, st := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, f := range ft {
		if f == ">" {
			return len(st) > i
		}
		if i >= len(st) || (f != "*" && f != st[i]) {
			return false
		}
	}
	return len(ft) == len(st)
}
