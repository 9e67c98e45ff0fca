package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/palisade-sec/palisade/internal/bus"
)

// Subjects on the bus. Alerts are published by the audit pipeline (see
// PublishingStore) and consumed by one durable consumer per sink; alerts a
// sink could not take are republished under DeadLetterPrefix+<sink>.
const (
	AlertSubjectPrefix = "palisade.alerts."
	DeadLetterPrefix   = "palisade.deadletter.alerts."
)

// MaxBackoff is the longest wait between two attempts; see Retry.
const MaxBackoff = 15 * time.Second

// Retry configures delivery attempts.
type Retry struct {
	// MaxAttempts is how many times an alert is offered to a sink before it
	// becomes a dead letter (default 8).
	MaxAttempts int
	// Initial and Max bound the exponential back-off between attempts
	// (defaults 1s and 15s). Max is capped at MaxBackoff: the wait plus a
	// send (HTTP sinks time out after 10 s) must stay under the bus's 30 s
	// acknowledgement wait, or JetStream would redeliver the message while
	// it is still being handled and the sink could get it twice.
	Initial, Max time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 8
	}
	if r.Initial <= 0 {
		r.Initial = time.Second
	}
	if r.Max <= 0 {
		r.Max = MaxBackoff
	}
	r.Max = min(r.Max, MaxBackoff)
	return r
}

// Backoff returns the wait before attempt n (2 is the first retry):
// Initial·2^(n-2), capped at Max, with "equal jitter" (half fixed, half
// random) so that many alerts failing together do not retry in lockstep.
func (r Retry) Backoff(n int, rnd func() float64) time.Duration {
	if n <= 1 {
		return 0
	}
	d := r.Initial
	for i := 2; i < n && d < r.Max; i++ {
		d *= 2
	}
	d = min(d, r.Max)
	return d/2 + time.Duration(rnd()*float64(d/2))
}

// DeadLetter is what the dead-letter subject holds: the alert, the sink
// that could not take it, and why.
type DeadLetter struct {
	Sink     string          `json:"sink"`
	Attempts int             `json:"attempts"`
	Error    string          `json:"error"`
	At       time.Time       `json:"at"`
	Alert    json.RawMessage `json:"alert"`
}

// Bus is the part of *bus.Bus the forwarder uses.
type Bus interface {
	Consume(ctx context.Context, durable, filter string, h bus.Handler) error
	Publish(ctx context.Context, subject, id string, data []byte) error
}

// ForwarderOptions configures a Forwarder.
type ForwarderOptions struct {
	Bus    Bus
	Sinks  []Sink
	Retry  Retry
	Logger *slog.Logger
	// Registerer receives palisade_sink_deliveries_total{sink,result}.
	Registerer prometheus.Registerer
	Now        func() time.Time
	// Rand returns a float in [0,1) for jitter; default math/rand/v2.
	Rand func() float64
}

// Forwarder delivers the alerts on the bus to sinks. Each sink has its own
// durable consumer, so a sink that is down delays only itself, and its
// position survives restarts. A message is acknowledged only after its sink
// took it or it was stored as a dead letter: never a silent drop.
type Forwarder struct {
	opts       ForwarderOptions
	logger     *slog.Logger
	deliveries *prometheus.CounterVec
}

// The result label values of palisade_sink_deliveries_total.
const (
	ResultDelivered  = "delivered"   // the sink took the alert
	ResultRetry      = "retry"       // an attempt failed; it will be retried
	ResultDeadLetter = "dead_letter" // attempts exhausted (or undecodable): dead-lettered
)

// NewForwarder builds a Forwarder.
func NewForwarder(opts ForwarderOptions) (*Forwarder, error) {
	if opts.Bus == nil {
		return nil, fmt.Errorf("alert forwarder: a bus is required")
	}
	seen := map[string]bool{}
	for _, s := range opts.Sinks {
		if s.Name() == "" || seen[s.Name()] {
			return nil, fmt.Errorf("alert forwarder: sink names must be unique and non-empty (%q)", s.Name())
		}
		seen[s.Name()] = true
	}
	opts.Retry = opts.Retry.withDefaults()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	f := &Forwarder{opts: opts, logger: opts.Logger.With("component", "alert_forwarder"),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palisade_sink_deliveries_total",
			Help: "Alert delivery attempts by sink and result: delivered, retry, dead_letter.",
		}, []string{"sink", "result"})}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(f.deliveries); err != nil {
			return nil, fmt.Errorf("register sink metrics: %w", err)
		}
	}
	return f, nil
}

// Durable is the consumer name of a sink.
func Durable(sinkName string) string { return "alert-sink-" + subjectToken(sinkName) }

// Run consumes for every sink until ctx is done.
func (f *Forwarder) Run(ctx context.Context) error {
	errs := make(chan error, len(f.opts.Sinks))
	for _, s := range f.opts.Sinks {
		go func() {
			errs <- f.opts.Bus.Consume(ctx, Durable(s.Name()), AlertSubjectPrefix+">", func(ctx context.Context, m bus.Message) error {
				return f.handle(ctx, s, m)
			})
		}()
	}
	var first error
	for range f.opts.Sinks {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// handle makes attempt m.Delivered of delivering one alert to s. JetStream
// counts deliveries durably, so the attempt count survives restarts; the
// back-off is waited here, before the attempt, so it survives them too.
func (f *Forwarder) handle(ctx context.Context, s Sink, m bus.Message) error {
	var a Alert
	if err := json.Unmarshal(m.Data, &a); err != nil || a.ID == "" {
		if err == nil {
			err = errors.New("alert has no id")
		}
		return f.deadLetter(ctx, s, m, int(m.Delivered), fmt.Errorf("undecodable alert: %w", err))
	}
	attempt := int(m.Delivered)
	if wait := f.opts.Retry.Backoff(attempt, f.opts.Rand); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	err := s.Send(ctx, []Alert{a})
	if err == nil {
		f.deliveries.WithLabelValues(s.Name(), ResultDelivered).Inc()
		return nil
	}
	if ctx.Err() != nil {
		return err // shutting down: redeliver after restart, attempt not spent
	}
	if attempt < f.opts.Retry.MaxAttempts {
		f.deliveries.WithLabelValues(s.Name(), ResultRetry).Inc()
		f.logger.Warn("alert delivery failed; will retry", "sink", s.Name(), "alert", a.ID, "attempt", attempt, "error", err)
		return err
	}
	return f.deadLetter(ctx, s, m, attempt, err)
}

// deadLetter stores the alert on the dead-letter subject, then logs and
// counts it. Only once that is durable is the original acknowledged.
func (f *Forwarder) deadLetter(ctx context.Context, s Sink, m bus.Message, attempts int, cause error) error {
	dl, err := json.Marshal(DeadLetter{Sink: s.Name(), Attempts: attempts, Error: cause.Error(), At: f.opts.Now().UTC(), Alert: json.RawMessage(validJSON(m.Data))})
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	id := fmt.Sprintf("%s/%d", s.Name(), m.Sequence)
	if err := f.opts.Bus.Publish(ctx, DeadLetterPrefix+subjectToken(s.Name()), id, dl); err != nil {
		return fmt.Errorf("store dead letter for sink %s: %w", s.Name(), err)
	}
	f.deliveries.WithLabelValues(s.Name(), ResultDeadLetter).Inc()
	f.logger.Error("alert not delivered; stored as dead letter", "sink", s.Name(), "sequence", m.Sequence,
		"attempts", attempts, "subject", DeadLetterPrefix+subjectToken(s.Name()), "error", cause)
	return nil
}

// validJSON returns b when it is JSON, else b as a JSON string, so that a
// dead letter always encodes.
func validJSON(b []byte) []byte {
	if json.Valid(b) {
		return b
	}
	q, _ := json.Marshal(string(b))
	return q
}
