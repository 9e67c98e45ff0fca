package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/prometheus/client_golang/prometheus"

	auditpkg "github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/audit/falcoevents"
	"github.com/palisade-sec/palisade/internal/audit/ingest"
	"github.com/palisade-sec/palisade/internal/audit/retention"
	"github.com/palisade-sec/palisade/internal/audit/sink"
	"github.com/palisade-sec/palisade/internal/bus"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
)

// This file wires issue 7 into serve: alert sinks and their forwarder,
// audit event retention and the Falco receiver. serve.go calls into it in
// a few lines so the two stay readable apart.

// busLimits are the bus stream bounds from audit.retention.
func busLimits(cfg *config.Config) (maxAge time.Duration, maxBytes int64) {
	return cfg.Audit.Retention.BusMaxAge.Std(), int64(cfg.Audit.Retention.BusMaxBytes)
}

// falcoRules adds the sequences joining audit and Falco events to rules.
func falcoRules(env *cel.Env, rules *auditpkg.RuleSet) error {
	corr, err := falcoevents.Rules(env)
	if err != nil {
		return err
	}
	rules.Merge(corr)
	return nil
}

// pipelineStore is the store the audit pipeline writes through: with sinks
// configured, every stored alert is also published for forwarding.
func pipelineStore(cfg *config.Config, events *bus.Bus, st store.Store) ingest.Store {
	if len(cfg.Audit.Sinks) == 0 {
		return st
	}
	return &sink.PublishingStore{AlertStore: st, Bus: events}
}

// mountFalco serves POST /falco/v1/alerts when audit.falco.enabled.
func mountFalco(cfg *config.Config, handle func(string, http.Handler), events *bus.Bus, authenticate func(*http.Request) (string, bool), reg prometheus.Registerer, logger *slog.Logger) error {
	if !cfg.Audit.Falco.Enabled {
		return nil
	}
	rc, err := falcoevents.New(falcoevents.Options{Publisher: events, Authenticate: authenticate, Logger: logger, Registerer: reg})
	if err != nil {
		return err
	}
	handle("POST "+falcoevents.Path, rc)
	return nil
}

// startAuditForwarding starts the alert forwarder (when sinks are
// configured) and the retention loop; wait blocks until both stopped.
func startAuditForwarding(ctx context.Context, cfg *config.Config, getenv func(string) string, events *bus.Bus, st store.Store, reg prometheus.Registerer, logger *slog.Logger) (wait func(), err error) {
	sinks, closers, err := buildSinks(cfg.Audit.Sinks, getenv)
	if err != nil {
		return nil, usageError(err)
	}
	done := make(chan struct{}, 2)
	running := 0
	if len(sinks) > 0 {
		d := cfg.Audit.Delivery
		fw, err := sink.NewForwarder(sink.ForwarderOptions{Bus: events, Sinks: sinks, Logger: logger, Registerer: reg,
			Retry: sink.Retry{MaxAttempts: d.MaxAttempts, Initial: d.InitialBackoff.Std(), Max: d.MaxBackoff.Std()}})
		if err != nil {
			closeAll(closers)
			return nil, err
		}
		running++
		go func() {
			defer func() { closeAll(closers); done <- struct{}{} }()
			if err := fw.Run(ctx); err != nil {
				logger.Error("alert forwarder stopped", "error", err)
			}
		}()
		for _, s := range sinks {
			logger.Info("forwarding audit alerts", "sink", s.Name())
		}
	}
	if keep := cfg.Audit.Retention.Events.Std(); keep > 0 {
		r := retention.New(retention.Options{Store: st, Keep: keep, Logger: logger.With("component", "audit_retention")})
		running++
		go func() {
			defer func() { done <- struct{}{} }()
			t := time.NewTicker(time.Hour)
			defer t.Stop()
			r.Run(ctx, t.C)
		}()
	}
	return func() {
		for range running {
			<-done
		}
	}, nil
}

// buildSinks makes the configured sinks, reading their secrets. The
// returned closers release file sinks.
func buildSinks(cfgs []config.AuditSink, getenv func(string) string) ([]sink.Sink, []io.Closer, error) {
	var out []sink.Sink
	var closers []io.Closer
	fail := func(c config.AuditSink, err error) ([]sink.Sink, []io.Closer, error) {
		closeAll(closers)
		return nil, nil, fmt.Errorf("audit sink %s: %w", c.Name, err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range cfgs {
		secret, err := sink.LoadSecret(getenv, c.SecretEnv, c.SecretFile)
		if err != nil {
			return fail(c, err)
		}
		url := c.URL
		if c.URLEnv != "" {
			if url = getenv(c.URLEnv); url == "" {
				return fail(c, fmt.Errorf("environment variable %s (urlEnv) is empty or unset", c.URLEnv))
			}
		}
		var s sink.Sink
		switch c.Type {
		case config.SinkWebhook:
			s, err = sink.NewWebhook(sink.WebhookOptions{Name: c.Name, URL: url, Secret: secret, Client: client})
		case config.SinkSlack:
			s, err = sink.NewSlack(sink.SlackOptions{Name: c.Name, URL: url, Client: client})
		case config.SinkAlertmanager:
			s, err = sink.NewAlertmanager(sink.AlertmanagerOptions{Name: c.Name, URL: url, Client: client, ExternalURL: c.ExternalURL})
		case config.SinkTheHive:
			s, err = sink.NewTheHive(sink.TheHiveOptions{Name: c.Name, URL: url, APIKey: secret, Organisation: c.Organisation, Client: client})
		case config.SinkFile:
			var f *sink.File
			f, err = sink.NewFile(sink.FileOptions{Name: c.Name, Path: c.Path, MaxBytes: int64(c.MaxBytes), MaxFiles: c.MaxFiles})
			if err == nil {
				closers = append(closers, f)
				s = f
			}
		default:
			err = fmt.Errorf("unknown type %q", c.Type)
		}
		if err != nil {
			return fail(c, err)
		}
		if c.MinSeverity != "" {
			min, err := finding.ParseSeverity(c.MinSeverity)
			if err != nil {
				return fail(c, err)
			}
			s = sink.MinSeverity(s, min)
		}
		out = append(out, s)
	}
	return out, closers, nil
}

func closeAll(cs []io.Closer) {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	_ = errors.Join(errs...) // file sinks fsync every send; close errors lose nothing
}
