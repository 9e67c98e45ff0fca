package cli

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/paths"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
	"github.com/palisade-sec/palisade/internal/posture/continuous"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
)

// startContinuousPosture watches the clusters registered through
// /api/v1/clusters (kept in the data directory across restarts): each is
// scanned at once and rescanned on change; critical exposure becomes an
// alert in the store. It returns a function that stops the watchers.
func startContinuousPosture(ctx context.Context, cfg *config.Config, srv *server.Server, st store.Store, logger *slog.Logger) (stop func(), err error) {
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		return nil, err
	}
	mapping, err := compliance.Load()
	if err != nil {
		return nil, err
	}
	log := logger.With("component", "continuous_posture")
	m := continuous.New(ctx, continuous.Options{
		Scanner:    posture.NewScanner(reg, mapping.ControlsOf),
		Base:       posture.Options{Registries: cfg.Registries},
		Exceptions: cfg.Exceptions,
		Findings:   st,
		Alerts:     st,
		Logger:     log,
		OnAlert: func(a store.Alert) {
			log.Warn("posture alert", "cluster", a.Cluster, "rule", a.RuleID, "severity", a.Severity.String(), "title", a.Title, "alert_id", a.ID)
		},
	})
	r := &continuous.Registry{Manager: m, Dir: filepath.Join(paths.DataDir(), "clusters")}
	if err := r.Load(); err != nil {
		log.Error("some registered clusters could not be loaded", "error", err)
	}
	r.Mount(srv)
	return m.Close, nil
}
