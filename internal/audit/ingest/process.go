package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/bus"
)

// parallelFrom is how many messages each decoding goroutine should have at
// least (up to GOMAXPROCS goroutines); fewer cost more than they save.
const parallelFrom = 32

// decoded is one bus message decoded, with its events' rule conditions
// evaluated (Engine.Prepare) but not yet correlated.
type decoded struct {
	rec    receiver.Record
	events []*audit.Event
	err    error
}

// process decodes every message of a batch and runs its events through the
// engine. Decoding and rule conditions, the stateless and CPU-heavy part,
// run in parallel (Engine.Prepare needs no lock); correlation runs after,
// on this goroutine, in stream order. Undecodable messages are logged and
// skipped whole: redelivering cannot fix them, and they stay in the stream
// for inspection.
func (p *Pipeline) process(ctx context.Context, in []bus.Message) []message {
	dec := p.decodeAll(ctx, in)
	out := make([]message, 0, len(in))
	for i, m := range in {
		d := &dec[i]
		if d.err != nil {
			p.logger().Error("audit record did not decode; skipped", "sequence", m.Sequence, "cluster", d.rec.Cluster, "error", d.err)
			continue
		}
		// Only a redelivery can be at or below covers (a first delivery
		// after a snapshot cannot); checking Delivered as well keeps a
		// recreated stream, whose sequences start again, from being skipped.
		correlate := m.Delivered == 1 || m.Sequence > p.covers
		msg := message{seq: m.Sequence, alerts: p.pending[m.Sequence]}
		delete(p.pending, m.Sequence)
		for _, e := range d.events {
			msg.events = append(msg.events, storeEvent(e, d.rec.Event))
			if correlate {
				msg.alerts = append(msg.alerts, p.Engine.Process(e)...)
			}
		}
		p.covers = max(p.covers, m.Sequence)
		out = append(out, msg)
	}
	return out
}

// decodeAll decodes in, in parallel when it is large enough.
func (p *Pipeline) decodeAll(ctx context.Context, in []bus.Message) []decoded {
	out := make([]decoded, len(in))
	workers := min(runtime.GOMAXPROCS(0), len(in)/parallelFrom)
	if workers <= 1 {
		for i := range in {
			out[i] = p.decode(ctx, in[i])
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(in); i = int(next.Add(1) - 1) {
				out[i] = p.decode(ctx, in[i])
			}
		})
	}
	wg.Wait()
	return out
}

// decode decodes one bus message. Not cancellable: a batch is decoded and
// correlated whole, so a shutdown cannot leave a message half-correlated
// (decoding one record is CPU-bound and short).
func (p *Pipeline) decode(ctx context.Context, m bus.Message) decoded {
	var d decoded
	if err := json.Unmarshal(m.Data, &d.rec); err != nil {
		d.err = fmt.Errorf("undecodable record: %w", err)
		return d
	}
	src := audit.Source{Name: d.rec.Source, Cluster: d.rec.Cluster}
	_, err := audit.Decode(context.WithoutCancel(ctx), bytes.NewReader(d.rec.Event), src, func() time.Time { return d.rec.ReceivedAt }, func(e *audit.Event) error {
		p.Engine.Prepare(e)
		d.events = append(d.events, e)
		return nil
	})
	if err != nil {
		d.err = err
		d.events = nil
	}
	return d
}
