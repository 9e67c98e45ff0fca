// Package pubsub pulls GKE audit events from a Pub/Sub subscription fed by a
// Cloud Logging sink: each message is one LogEntry (JSON) whose
// protoPayload is an AuditLog. A message is acked once the bus holds it and
// nacked otherwise, so Pub/Sub redelivers it.
package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"

	"github.com/palisade-sec/palisade/internal/audit/connect"
)

// Options configures a Connector.
type Options struct {
	Cluster      string // Palisade's name for the cluster; required
	Project      string // the subscription's project; required
	Subscription string // subscription ID or projects/<p>/subscriptions/<s>; required
	// MaxOutstanding bounds messages held unacked at once; default 100.
	MaxOutstanding int
	// ClientOptions are passed to the client: credentials default to
	// Application Default Credentials; tests pass a connection to pstest.
	ClientOptions []option.ClientOption
	Logger        *slog.Logger
}

// Connector is the Pub/Sub connector.
type Connector struct {
	opts   Options
	logger *slog.Logger
}

// New builds a Connector; the client is created in Run.
func New(opts Options) (*Connector, error) {
	if opts.Cluster == "" || opts.Project == "" || opts.Subscription == "" {
		return nil, errors.New("pubsub connector: cluster, project and subscription are required")
	}
	if opts.MaxOutstanding == 0 {
		opts.MaxOutstanding = 100
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Connector{opts: opts}
	c.logger = opts.Logger.With("component", "audit_connector", "connector", c.Name())
	return c, nil
}

// Name implements connect.Connector.
func (c *Connector) Name() string { return "pubsub/" + c.opts.Cluster }

// Run implements connect.Connector. The client's streaming pull reconnects
// by itself; Run returns when ctx is done or the subscription cannot be
// read (missing, no permission).
func (c *Connector) Run(ctx context.Context, publish connect.PublishFunc) error {
	client, err := pubsub.NewClient(ctx, c.opts.Project, c.opts.ClientOptions...)
	if err != nil {
		return fmt.Errorf("pubsub client for project %s: %w", c.opts.Project, err)
	}
	defer client.Close()
	sub := client.Subscriber(c.opts.Subscription)
	sub.ReceiveSettings.MaxOutstandingMessages = c.opts.MaxOutstanding
	err = sub.Receive(ctx, func(ctx context.Context, m *pubsub.Message) {
		if err := publish(ctx, c.opts.Cluster, []connect.Record{Record(m.ID, m.Data)}); err != nil {
			c.logger.Warn("pubsub message not made durable; nacked for redelivery", "message_id", m.ID, "error", err)
			m.Nack()
			return
		}
		m.Ack()
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("receive from pubsub subscription %s: %w", c.opts.Subscription, err)
	}
	return nil
}

// logEntryKey is a LogEntry's identity: Cloud Logging de-duplicates entries
// with the same logName, insertId and timestamp, and so do we (a sink may
// deliver one entry twice, under two message IDs).
type logEntryKey struct {
	LogName   string `json:"logName"`
	InsertID  string `json:"insertId"`
	Timestamp string `json:"timestamp"`
}

// Record makes the bus record of one message.
func Record(messageID string, data []byte) connect.Record {
	var k logEntryKey
	if json.Unmarshal(data, &k) == nil && k.InsertID != "" {
		return connect.Record{ID: "gke/" + k.InsertID + "/" + k.Timestamp, Data: data}
	}
	return connect.Record{ID: "pubsub/" + messageID, Data: data}
}

var _ connect.Connector = (*Connector)(nil)
