package cli

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/palisade-sec/palisade/internal/audit/connect"
	"github.com/palisade-sec/palisade/internal/audit/connect/cloudwatch"
	"github.com/palisade-sec/palisade/internal/audit/connect/eventhubs"
	"github.com/palisade-sec/palisade/internal/audit/connect/pubsub"
	"github.com/palisade-sec/palisade/internal/bus"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/paths"
)

// connectorCheckpoint is where a pull connector's resume position lives;
// config rejects two connectors of one type for one cluster.
func connectorCheckpoint(typ, cluster string) string {
	return filepath.Join(paths.DataDir(), "audit-connectors", typ+"-"+cluster+".json")
}

// buildConnectors makes the connectors of audit.connectors. getenv reads
// connection strings; nothing read here is logged.
func buildConnectors(ctx context.Context, cfg *config.Config, getenv func(string) string, logger *slog.Logger) ([]connect.Connector, func(), error) {
	var out []connect.Connector
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	for i, c := range cfg.Audit.Connectors {
		where := fmt.Sprintf("audit.connectors[%d] (%s/%s)", i, c.Type, c.Cluster)
		var conn connect.Connector
		var err error
		switch c.Type {
		case config.ConnectorCloudWatch:
			var client cloudwatch.API
			client, err = cloudwatch.NewClient(ctx, cloudwatch.ClientOptions{Region: c.Region, Endpoint: c.Endpoint})
			if err == nil {
				conn, err = cloudwatch.New(client, cloudwatch.Options{
					Cluster: c.Cluster, LogGroup: c.LogGroup, StreamPrefix: c.StreamPrefix,
					Checkpoint: connectorCheckpoint(c.Type, c.Cluster), PollInterval: time.Duration(c.PollInterval), Logger: logger,
				})
			}
		case config.ConnectorPubSub:
			conn, err = pubsub.New(pubsub.Options{Cluster: c.Cluster, Project: c.Project, Subscription: c.Subscription, Logger: logger})
		case config.ConnectorEventHubs:
			co := eventhubs.ClientOptions{Namespace: c.Namespace, EventHub: c.EventHub, ConsumerGroup: c.ConsumerGroup}
			if c.ConnectionStringEnv != "" {
				if co.ConnectionString = getenv(c.ConnectionStringEnv); co.ConnectionString == "" {
					err = fmt.Errorf("environment variable %s is empty", c.ConnectionStringEnv)
					break
				}
			}
			var hub *eventhubs.ConsumerHub
			if hub, err = eventhubs.NewConsumerHub(co); err == nil {
				closers = append(closers, func() {
					cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					_ = hub.Close(cctx) // stopping; nothing is left to flush
				})
				conn, err = eventhubs.New(hub, eventhubs.Options{
					Cluster: c.Cluster, Logger: logger,
					Checkpoints: &eventhubs.FileCheckpoints{Path: connectorCheckpoint(c.Type, c.Cluster)},
				})
			}
		default:
			err = fmt.Errorf("unknown type %q", c.Type) // config validated it
		}
		if err != nil {
			closeAll()
			return nil, nil, usageError(fmt.Errorf("%s: %w", where, err))
		}
		out = append(out, conn)
	}
	return out, closeAll, nil
}

// startAuditConnectors starts the pull connectors of audit.connectors; they
// publish onto the bus the ingest pipeline consumes. The returned function
// waits for them after ctx is done.
func startAuditConnectors(ctx context.Context, cfg *config.Config, getenv func(string) string, events *bus.Bus, logger *slog.Logger) (wait func(), err error) {
	conns, closeAll, err := buildConnectors(ctx, cfg, getenv, logger)
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	for i, c := range conns {
		publish := connect.BusPublish(events, cfg.Audit.Connectors[i].Type, nil)
		logger.Info("audit pull connector started", "connector", c.Name())
		wg.Go(func() {
			if err := c.Run(ctx, publish); err != nil {
				logger.Error("audit pull connector stopped", "connector", c.Name(), "error", err)
			}
		})
	}
	return func() { wg.Wait(); closeAll() }, nil
}
