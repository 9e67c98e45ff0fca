// Package cloudwatch pulls EKS audit events from CloudWatch Logs: the log
// group /aws/eks/<cluster>/cluster, streams kube-apiserver-audit-*, read with
// FilterLogEvents and resumed from a per-stream checkpoint file.
package cloudwatch

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/palisade-sec/palisade/internal/audit/connect"
)

// StreamPrefix is where EKS writes the API server's audit log.
const StreamPrefix = "kube-apiserver-audit-"

// API is the part of the CloudWatch Logs client the connector uses.
type API interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

// Options configures a Connector.
type Options struct {
	Cluster string // Palisade's name for the cluster; required
	// LogGroup defaults to /aws/eks/<Cluster>/cluster.
	LogGroup string
	// StreamPrefix defaults to kube-apiserver-audit-.
	StreamPrefix string
	// Checkpoint is the file holding each stream's last published event.
	Checkpoint string
	// Since is how far back the first run (no checkpoint) starts; default 1h.
	Since time.Duration
	// PollInterval is the wait after the newest page; default 30s.
	PollInterval time.Duration
	// Backoff paces retries after errors the SDK's own retries (throttling
	// included) did not absorb.
	Backoff connect.Backoff
	Logger  *slog.Logger
	Now     func() time.Time
}

// Connector is the CloudWatch Logs connector.
type Connector struct {
	api    API
	opts   Options
	logger *slog.Logger
}

// Position is a stream's last published event. CloudWatch event IDs are
// equal-length decimal strings, increasing within a stream.
type Position struct {
	Timestamp int64  `json:"timestamp"`
	EventID   string `json:"eventId"`
}

// Checkpoint is the file's content.
type Checkpoint struct {
	LogGroup string              `json:"logGroup"`
	Streams  map[string]Position `json:"streams"`
}

// ClientOptions builds the SDK client.
type ClientOptions struct {
	Region string
	// Endpoint overrides the service endpoint (a VPC endpoint, a test
	// server); empty uses the SDK's resolution.
	Endpoint string
	// Credentials overrides the SDK's default chain (environment, shared
	// files, web identity, IMDS); nil uses it.
	Credentials aws.CredentialsProvider
	// MaxAttempts and MaxBackoff bound the SDK's retries of throttled and
	// failed calls; defaults 5 and 20s.
	MaxAttempts int
	MaxBackoff  time.Duration
}

// NewClient builds a CloudWatch Logs client. Credentials come from the
// SDK's default chain and are never logged.
func NewClient(ctx context.Context, co ClientOptions) (*cloudwatchlogs.Client, error) {
	loaders := []func(*awsconfig.LoadOptions) error{}
	if co.Region != "" {
		loaders = append(loaders, awsconfig.WithRegion(co.Region))
	}
	if co.Credentials != nil {
		loaders = append(loaders, awsconfig.WithCredentialsProvider(co.Credentials))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	attempts, maxBackoff := cmp.Or(co.MaxAttempts, 5), cmp.Or(co.MaxBackoff, 20*time.Second)
	return cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
		if co.Endpoint != "" {
			o.BaseEndpoint = aws.String(co.Endpoint)
		}
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.MaxBackoff = maxBackoff
		})
	}), nil
}

// New builds a Connector reading through api.
func New(api API, opts Options) (*Connector, error) {
	if api == nil || opts.Cluster == "" || opts.Checkpoint == "" {
		return nil, errors.New("cloudwatch connector: a client, a cluster and a checkpoint path are required")
	}
	opts.LogGroup = cmp.Or(opts.LogGroup, "/aws/eks/"+opts.Cluster+"/cluster")
	opts.StreamPrefix = cmp.Or(opts.StreamPrefix, StreamPrefix)
	opts.Since = cmp.Or(opts.Since, time.Hour)
	opts.PollInterval = cmp.Or(opts.PollInterval, 30*time.Second)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Connector{api: api, opts: opts}
	c.logger = opts.Logger.With("component", "audit_connector", "connector", c.Name())
	return c, nil
}

// Name implements connect.Connector.
func (c *Connector) Name() string { return "cloudwatch/" + c.opts.Cluster }

// Run implements connect.Connector: poll, publish each page, commit the
// checkpoint, and wait PollInterval once the newest page is read.
func (c *Connector) Run(ctx context.Context, publish connect.PublishFunc) error {
	cp := Checkpoint{LogGroup: c.opts.LogGroup, Streams: map[string]Position{}}
	if err := connect.LoadJSON(c.opts.Checkpoint, &cp); err != nil {
		return err
	}
	if cp.LogGroup != c.opts.LogGroup {
		return fmt.Errorf("cloudwatch checkpoint %s is for log group %s, not %s", c.opts.Checkpoint, cp.LogGroup, c.opts.LogGroup)
	}
	if cp.Streams == nil {
		cp.Streams = map[string]Position{}
	}
	for ctx.Err() == nil {
		if err := c.poll(ctx, &cp, publish); err != nil {
			if ctx.Err() != nil {
				break
			}
			c.logger.Warn("cloudwatch poll failed; retrying", "error", err)
			if c.opts.Backoff.Wait(ctx) != nil {
				break
			}
			continue
		}
		c.opts.Backoff.Reset()
		if connect.Sleep(ctx, c.opts.PollInterval) != nil {
			break
		}
	}
	return nil
}

// poll reads every page from the oldest stream position on. Events at or
// before their stream's position (as it stood when the poll began) are
// replays and skipped.
func (c *Connector) poll(ctx context.Context, cp *Checkpoint, publish connect.PublishFunc) error {
	seen := make(map[string]Position, len(cp.Streams))
	for k, v := range cp.Streams {
		seen[k] = v
	}
	start := c.opts.Now().Add(-c.opts.Since).UnixMilli()
	if len(seen) > 0 {
		start = int64(1<<63 - 1)
		for _, p := range seen {
			start = min(start, p.Timestamp)
		}
	}
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:        aws.String(c.opts.LogGroup),
		LogStreamNamePrefix: aws.String(c.opts.StreamPrefix),
		StartTime:           aws.Int64(start),
	}
	for {
		out, err := c.api.FilterLogEvents(ctx, in)
		if err != nil {
			return fmt.Errorf("filter log events of %s from %d: %w", c.opts.LogGroup, start, err)
		}
		recs, next := c.records(out.Events, seen, cp.Streams)
		if len(recs) > 0 {
			if err := c.publish(ctx, recs, publish); err != nil {
				return err
			}
		}
		if len(next) > 0 {
			for k, v := range next {
				cp.Streams[k] = v
			}
			if err := connect.SaveJSON(c.opts.Checkpoint, cp); err != nil {
				return fmt.Errorf("save cloudwatch checkpoint: %w", err)
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			return nil
		}
		in.NextToken = out.NextToken
	}
}

// publish retries until the bus took the page: FilterLogEvents' next token
// is only good for a while, but the checkpoint makes a restarted poll exact.
func (c *Connector) publish(ctx context.Context, recs []connect.Record, publish connect.PublishFunc) error {
	var b connect.Backoff = c.opts.Backoff
	for {
		err := publish(ctx, c.opts.Cluster, recs)
		if err == nil {
			return nil
		}
		c.logger.Warn("cloudwatch page not made durable; retrying", "events", len(recs), "error", err)
		if werr := b.Wait(ctx); werr != nil {
			return fmt.Errorf("publish cloudwatch page: %w", err)
		}
	}
}

// subscriptionRecord is the CloudWatch Logs subscription format with one
// event: audit.Decode knows it as EKS and reads the cluster's events from it.
type subscriptionRecord struct {
	MessageType string       `json:"messageType"`
	LogGroup    string       `json:"logGroup"`
	LogStream   string       `json:"logStream"`
	LogEvents   []cwLogEvent `json:"logEvents"`
}

type cwLogEvent struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// records turns a page into records, skipping replays, and returns the
// positions the page advances streams to.
func (c *Connector) records(events []types.FilteredLogEvent, seen, current map[string]Position) ([]connect.Record, map[string]Position) {
	recs := make([]connect.Record, 0, len(events))
	next := map[string]Position{}
	for _, e := range events {
		stream, id := aws.ToString(e.LogStreamName), aws.ToString(e.EventId)
		pos := Position{Timestamp: aws.ToInt64(e.Timestamp), EventID: id}
		if p, ok := seen[stream]; ok && !after(pos, p) {
			continue
		}
		if p, ok := next[stream]; !ok || after(pos, p) {
			if cur, ok := current[stream]; !ok || after(pos, cur) {
				next[stream] = pos
			}
		}
		msg := aws.ToString(e.Message)
		data, err := json.Marshal(subscriptionRecord{
			MessageType: "DATA_MESSAGE", LogGroup: c.opts.LogGroup, LogStream: stream,
			LogEvents: []cwLogEvent{{ID: id, Timestamp: pos.Timestamp, Message: msg}},
		})
		if err != nil {
			continue // strings and ints always encode
		}
		recs = append(recs, connect.Record{ID: connect.EventID([]byte(msg), "cloudwatch/"+stream+"/"+id), Data: data})
	}
	return recs, next
}

// after reports whether a is later than b in a stream.
func after(a, b Position) bool {
	if a.Timestamp != b.Timestamp {
		return a.Timestamp > b.Timestamp
	}
	if len(a.EventID) != len(b.EventID) {
		return len(a.EventID) > len(b.EventID)
	}
	return a.EventID > b.EventID
}

var _ connect.Connector = (*Connector)(nil)
