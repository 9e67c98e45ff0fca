package falcoevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/bus"
)

// Path is where the Falco receiver is mounted.
const Path = "/falco/v1/alerts"

// Source is the event source name of Falco events (e.source in rules).
const Source = "falco"

// Options configures a Receiver.
type Options struct {
	Publisher receiver.Publisher
	// Authenticate names the cluster the sender belongs to; Falco
	// authenticates with the same tokens as API servers (group
	// palisade:audit-sources, the token's name is the cluster).
	Authenticate receiver.Authenticator
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
	MaxBodyBytes int64         // default 4 MiB
	PublishWait  time.Duration // default 10s
	Now          func() time.Time
}

// Receiver is the HTTP handler for Falco's http_output.
type Receiver struct {
	opts     Options
	logger   *slog.Logger
	received *prometheus.CounterVec
}

// New builds a Receiver.
func New(opts Options) (*Receiver, error) {
	if opts.Publisher == nil || opts.Authenticate == nil {
		return nil, errors.New("falco receiver: a publisher and an authenticator are required")
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 4 << 20
	}
	if opts.PublishWait == 0 {
		opts.PublishWait = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	rc := &Receiver{opts: opts, logger: opts.Logger.With("component", "falco_receiver"),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palisade_falco_alerts_received_total", Help: "Falco alerts made durable, by cluster.",
		}, []string{"cluster"})}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(rc.received); err != nil {
			return nil, fmt.Errorf("register falco metrics: %w", err)
		}
	}
	return rc, nil
}

// ServeHTTP answers 200 once every alert of the request is on the bus, 400
// for alerts that do not decode (with the reason), 401 for unknown senders
// and 503 when the bus cannot take them (Falco logs the failure;
// Falcosidekick retries).
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST Falco alerts (json_output)", http.StatusMethodNotAllowed)
		return
	}
	cluster, ok := rc.opts.Authenticate(r)
	if !ok {
		http.Error(w, "unknown alert source", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.opts.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("body over %d bytes", rc.opts.MaxBodyBytes), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	alerts, err := Decode(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	msgs, err := Records(cluster, rc.opts.Now().UTC(), alerts)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), rc.opts.PublishWait)
	defer cancel()
	if err := rc.opts.Publisher.PublishBatch(ctx, msgs); err != nil {
		rc.logger.LogAttrs(r.Context(), slog.LevelWarn, "falco alerts not made durable; sender should retry",
			slog.String("cluster", cluster), slog.Int("alerts", len(msgs)), slog.Any("error", err))
		w.Header().Set("Retry-After", "2")
		http.Error(w, "alerts not stored; retry", http.StatusServiceUnavailable)
		return
	}
	rc.received.WithLabelValues(cluster).Add(float64(len(msgs)))
	w.WriteHeader(http.StatusOK)
}

// Records turns alerts into the bus messages the audit pipeline consumes:
// the same receiver.Record as an audit event, with source "falco", on the
// cluster's audit subject, de-duplicated by cluster/ID/stage.
func Records(cluster string, receivedAt time.Time, alerts []Alert) ([]bus.Message, error) {
	subject := receiver.SubjectPrefix + receiver.SubjectToken(cluster)
	msgs := make([]bus.Message, 0, len(alerts))
	for i := range alerts {
		ev := alerts[i].Event()
		item, err := json.Marshal(&ev)
		if err != nil {
			return nil, fmt.Errorf("alert %d: encode event: %w", i+1, err)
		}
		data, err := json.Marshal(receiver.Record{Cluster: cluster, Source: Source, ReceivedAt: receivedAt, Event: item})
		if err != nil {
			return nil, fmt.Errorf("alert %d: encode record: %w", i+1, err)
		}
		msgs = append(msgs, bus.Message{Subject: subject, ID: cluster + "/" + ev.AuditID + "/" + ev.Stage, Data: data})
	}
	return msgs, nil
}

var _ http.Handler = (*Receiver)(nil)
