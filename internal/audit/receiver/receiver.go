// Package receiver accepts Kubernetes audit events from API servers' webhook
// backend (--audit-webhook-config-file) and makes them durable on the bus
// before answering. It answers 200 only once every event of the batch is
// stored; when it cannot keep up it answers 429 or 503, which the API
// server's webhook backend retries, so an event is never dropped silently.
package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/palisade-sec/palisade/internal/bus"
)

// Path is where the receiver is mounted.
const Path = "/audit/v1/webhook"

// SubjectPrefix is followed by the cluster name: "palisade.audit.prod".
const SubjectPrefix = "palisade.audit."

// Publisher stores messages durably; *bus.Bus implements it.
type Publisher interface {
	PublishBatch(ctx context.Context, msgs []bus.Message) error
}

// Authenticator names the cluster a request comes from, or reports that the
// caller is not a known audit source.
type Authenticator func(r *http.Request) (cluster string, ok bool)

// Options configures a Receiver.
type Options struct {
	Publisher     Publisher
	Authenticate  Authenticator
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
	MaxBatchBytes int64         // default 64 MiB
	MaxInFlight   int           // concurrent batches; more get 429. Default 8.
	PublishWait   time.Duration // how long a batch may wait for durability. Default 10s.
	Now           func() time.Time
}

// Record is what the receiver puts on the bus for each audit event: the
// event exactly as the API server sent it, plus where and when it arrived.
type Record struct {
	Cluster    string          `json:"cluster"`
	Source     string          `json:"source"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Event      json.RawMessage `json:"event"`
}

// Receiver is the HTTP handler.
type Receiver struct {
	opts     Options
	logger   *slog.Logger
	slots    chan struct{}
	events   *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

// New builds a Receiver.
func New(opts Options) (*Receiver, error) {
	if opts.Publisher == nil || opts.Authenticate == nil {
		return nil, errors.New("audit receiver: a publisher and an authenticator are required")
	}
	if opts.MaxBatchBytes == 0 {
		opts.MaxBatchBytes = 64 << 20
	}
	if opts.MaxInFlight == 0 {
		opts.MaxInFlight = 8
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
	r := &Receiver{
		opts:   opts,
		logger: opts.Logger.With("component", "audit_receiver"),
		slots:  make(chan struct{}, opts.MaxInFlight),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palisade_audit_events_received_total", Help: "Audit events made durable, by cluster.",
		}, []string{"cluster"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palisade_audit_batches_rejected_total", Help: "Audit batches refused, by reason; the sender retries 429 and 503.",
		}, []string{"reason"}),
	}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(r.events); err != nil {
			return nil, fmt.Errorf("register audit metrics: %w", err)
		}
		if err := opts.Registerer.Register(r.rejected); err != nil {
			return nil, fmt.Errorf("register audit metrics: %w", err)
		}
	}
	return r, nil
}

// eventList is the webhook payload: audit.k8s.io/v1 EventList. Items stay
// raw; only the identity fields are read here.
type eventList struct {
	Kind       string            `json:"kind"`
	APIVersion string            `json:"apiVersion"`
	Items      []json.RawMessage `json:"items"`
}

type eventKey struct {
	AuditID string `json:"auditID"`
	Stage   string `json:"stage"`
}

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		rc.refuse(w, http.StatusMethodNotAllowed, "method", "POST an audit.k8s.io/v1 EventList")
		return
	}
	cluster, ok := rc.opts.Authenticate(r)
	if !ok {
		rc.refuse(w, http.StatusUnauthorized, "unauthenticated", "unknown audit source")
		return
	}
	select {
	case rc.slots <- struct{}{}:
		defer func() { <-rc.slots }()
	default:
		// Back-pressure: the API server's webhook backend retries with
		// back-off instead of us queueing without bound in memory.
		w.Header().Set("Retry-After", "1")
		rc.refuse(w, http.StatusTooManyRequests, "busy", "too many batches in flight; retry")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.opts.MaxBatchBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			rc.refuse(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("batch over %d bytes", rc.opts.MaxBatchBytes))
			return
		}
		rc.refuse(w, http.StatusBadRequest, "read", "read body: "+err.Error())
		return
	}
	msgs, err := rc.records(cluster, body)
	if err != nil {
		rc.refuse(w, http.StatusBadRequest, "malformed", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), rc.opts.PublishWait)
	defer cancel()
	if err := rc.opts.Publisher.PublishBatch(ctx, msgs); err != nil {
		rc.logger.LogAttrs(r.Context(), slog.LevelWarn, "audit batch not made durable; sender will retry",
			slog.String("cluster", cluster), slog.Int("events", len(msgs)), slog.Any("error", err))
		w.Header().Set("Retry-After", "2")
		rc.refuse(w, http.StatusServiceUnavailable, "unavailable", "events not stored; retry")
		return
	}
	rc.events.WithLabelValues(cluster).Add(float64(len(msgs)))
	w.WriteHeader(http.StatusOK)
}

// records validates the batch and turns each event into a bus message whose
// ID (cluster/auditID/stage) makes a retried batch idempotent.
func (rc *Receiver) records(cluster string, body []byte) ([]bus.Message, error) {
	var list eventList
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("decode EventList: %w", err)
	}
	if list.Kind != "EventList" || !strings.HasPrefix(list.APIVersion, "audit.k8s.io/") {
		return nil, fmt.Errorf("want kind EventList of audit.k8s.io, got kind %q apiVersion %q", list.Kind, list.APIVersion)
	}
	now := rc.opts.Now().UTC()
	subject := SubjectPrefix + SubjectToken(cluster)
	msgs := make([]bus.Message, 0, len(list.Items))
	for i, item := range list.Items {
		var key eventKey
		if err := json.Unmarshal(item, &key); err != nil {
			return nil, fmt.Errorf("items[%d]: %w", i, err)
		}
		if key.AuditID == "" || key.Stage == "" {
			return nil, fmt.Errorf("items[%d]: auditID and stage are required", i)
		}
		data, err := json.Marshal(Record{Cluster: cluster, Source: "webhook", ReceivedAt: now, Event: item})
		if err != nil {
			return nil, fmt.Errorf("items[%d]: encode record: %w", i, err)
		}
		msgs = append(msgs, bus.Message{Subject: subject, ID: cluster + "/" + key.AuditID + "/" + key.Stage, Data: data})
	}
	return msgs, nil
}

func (rc *Receiver) refuse(w http.ResponseWriter, code int, reason, msg string) {
	rc.rejected.WithLabelValues(reason).Inc()
	http.Error(w, msg, code)
}

var notSubjectSafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// SubjectToken makes a cluster name safe as one NATS subject token: dots,
// wildcards and spaces would change the subject's meaning.
func SubjectToken(cluster string) string {
	s := notSubjectSafe.ReplaceAllString(cluster, "_")
	if s == "" {
		return "_"
	}
	return s
}
