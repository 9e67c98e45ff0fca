package cli

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/palisade-sec/palisade/internal/audit/sink"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/paths"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
	"github.com/palisade-sec/palisade/internal/posture/continuous"
	"github.com/palisade-sec/palisade/internal/posture/imagevulns"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
)

// startContinuousPosture watches the clusters of posture.clusters and
// those registered through /api/v1/clusters (kept in the data directory
// across restarts): each is scanned at once and rescanned on change;
// critical exposure becomes an alert in the store and, with audit.sinks
// configured, is published on the bus for the same forwarder as audit
// alerts. It returns a function that stops the watchers.
func startContinuousPosture(ctx context.Context, cfg *config.Config, srv *server.Server, st store.Store, events sink.Publisher, logger *slog.Logger) (stop func(), err error) {
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		return nil, err
	}
	mapping, err := compliance.Load()
	if err != nil {
		return nil, err
	}
	log := logger.With("component", "continuous_posture")
	base := continuousPostureBase(cfg, log)
	// Workloads are judged with the scans CI uploaded to this server
	// (vulnerable-image, exposed-vulnerable-workload), matched by the
	// digest each pod runs; new uploads count from the next rescan.
	images := &imagevulns.Live{Store: st}
	if err := images.Refresh(ctx); err != nil {
		log.Warn("image scans not all indexed for posture", "error", err)
	}
	go images.Run(ctx, func(err error) { log.Warn("image scans not all indexed for posture", "error", err) })
	base.Images = images
	m := continuous.New(ctx, continuous.Options{
		Scanner:    posture.NewScanner(reg, mapping.ControlsOf),
		Base:       base,
		Exceptions: cfg.Exceptions,
		Findings:   st,
		Alerts:     st,
		Logger:     log,
		OnAlert:    postureAlertForwarder(cfg, events, log),
	})
	r := &continuous.Registry{Manager: m, Dir: filepath.Join(paths.DataDir(), "clusters")}
	// Configured clusters first: a name in palisade.yaml wins over a saved
	// registration of the same name. A kubeconfig that cannot be read is
	// logged, not fatal: it must not take the admission webhook and the
	// audit receiver down with it.
	if err := r.Configured(cfg.Posture.Clusters); err != nil {
		log.Error("some clusters of posture.clusters are not watched", "error", err)
	}
	if err := r.Load(); err != nil {
		log.Error("some registered clusters could not be loaded", "error", err)
	}
	r.Mount(srv)
	return m.Close, nil
}

// continuousPostureBase returns the scan options every watched cluster
// shares: the registries, the annotation switch and the versions table
// `posture scan` reads (the one `palisade db update` refreshed, else the
// embedded one). The table is read once: a refresh while serve runs takes
// effect at its next start.
func continuousPostureBase(cfg *config.Config, log *slog.Logger) posture.Options {
	table, err := loadVersionsTable(versionsTablePath())
	if err != nil {
		log.Warn("using the embedded Kubernetes versions table", "error", err)
	}
	opts := configuredPostureOptions(cfg)
	opts.IgnoreAnnotationExceptions = cfg.Posture.IgnoreAnnotationExceptions
	opts.Cluster = posture.ClusterInfo{Versions: table}
	return opts
}

// configuredPostureOptions returns the scan settings palisade.yaml gives
// the checks (registries, Agent Sandbox, availability, required metadata),
// the same for `posture scan` of manifests and clusters and for serve.
func configuredPostureOptions(cfg *config.Config) posture.Options {
	return posture.Options{
		Registries:          cfg.Registries,
		Sandboxes:           cfg.Posture.Sandboxes,
		Availability:        cfg.Posture.Availability,
		RequiredLabels:      cfg.Posture.RequiredLabels,
		RequiredAnnotations: cfg.Posture.RequiredAnnotations,
	}
}

// postureAlertForwarder logs each new posture alert and, when sinks are
// configured, publishes it for them. A publish error goes back to the
// watcher, which offers the alert again on a rescan.
func postureAlertForwarder(cfg *config.Config, events sink.Publisher, log *slog.Logger) func(context.Context, store.Alert) error {
	forward := len(cfg.Audit.Sinks) > 0
	return func(ctx context.Context, a store.Alert) error {
		log.Warn("posture alert", "cluster", a.Cluster, "rule", a.RuleID, "severity", a.Severity.String(), "title", a.Title, "alert_id", a.ID)
		if !forward {
			return nil
		}
		fa, err := sink.PostureAlert(a)
		if err != nil {
			return err
		}
		return sink.Publish(ctx, events, &fa)
	}
}
