package cli

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	auditpkg "github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/audit/ingest"
	"github.com/palisade-sec/palisade/internal/audit/tail"
	"github.com/palisade-sec/palisade/internal/bus"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/paths"
	"github.com/palisade-sec/palisade/internal/server"
)

// auditSourceFlags are serve's flags for where audit events come from
// besides the token-authenticated webhook: client certificates and log files.
type auditSourceFlags struct {
	clientCA string
	logPaths []string
	cluster  string
}

func (f *auditSourceFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.clientCA, "client-ca", "", "PEM CA bundle; API servers presenting a client certificate it signed are audit sources named by the certificate's CN")
	fl.StringArrayVar(&f.logPaths, "audit-log-path", nil, "tail an API server's JSON audit log file, [CLUSTER=]PATH; repeatable")
	fl.StringVar(&f.cluster, "cluster", "local", "cluster name for --audit-log-path entries that do not name one")
}

// clientCAs loads --client-ca (else audit.sources.clientCA), or returns
// nil when neither is set.
func (f *auditSourceFlags) clientCAs(cfg *config.Config) (*x509.CertPool, error) {
	path := firstNonEmpty(f.clientCA, cfg.Audit.Sources.ClientCA)
	if path == "" {
		return nil, nil
	}
	pool, err := server.LoadClientCA(path)
	if err != nil {
		return nil, usageError(fmt.Errorf("client CA for audit sources: %w", err))
	}
	return pool, nil
}

// auditAuthenticator is the receiver's authenticator: client certificates
// (when --client-ca is set), then tokens.
func auditAuthenticator(pool *x509.CertPool, tokens *server.Tokens) (func(*http.Request) (string, bool), error) {
	return server.AuditSources(pool, tokens)
}

type logSource struct{ cluster, path string }

// logSources lists audit.sources.logFiles and the --audit-log-path entries.
func (f *auditSourceFlags) logSources(cfg *config.Config) ([]logSource, error) {
	var out []logSource
	seen := map[string]bool{}
	for _, lf := range cfg.Audit.Sources.LogFiles {
		abs, err := filepath.Abs(lf.Path)
		if err != nil {
			return nil, usageError(fmt.Errorf("audit.sources.logFiles %q: %w", lf.Path, err))
		}
		seen[abs] = true
		out = append(out, logSource{cluster: lf.Cluster, path: abs})
	}
	for _, v := range f.logPaths {
		src := logSource{cluster: f.cluster, path: v}
		if name, path, ok := strings.Cut(v, "="); ok && !strings.ContainsAny(name, `/\`) {
			src.cluster, src.path = name, path
		}
		if src.cluster == "" || src.path == "" {
			return nil, usageError(fmt.Errorf("--audit-log-path %q: want [CLUSTER=]PATH", v))
		}
		abs, err := filepath.Abs(src.path)
		if err != nil {
			return nil, usageError(fmt.Errorf("--audit-log-path %q: %w", v, err))
		}
		if seen[abs] {
			return nil, usageError(fmt.Errorf("--audit-log-path %q: given twice (or also in audit.sources.logFiles)", v))
		}
		seen[abs] = true
		src.path = abs
		out = append(out, src)
	}
	return out, nil
}

// tailCheckpoint is where a tailed file's resume position lives: one file
// per absolute log path, under the data directory.
func tailCheckpoint(path string) string {
	sum := sha256.Sum256([]byte(path))
	return filepath.Join(paths.DataDir(), "audit-tail", hex.EncodeToString(sum[:8])+".json")
}

// startAuditBackground starts the log tailers and gives the pipeline its
// correlation state file; the returned function waits for the tailers after
// ctx is done. The pipeline restores the state when it starts and saves it
// itself: it acknowledges audit messages only once a saved snapshot covers
// them, so that partial sequence matches survive a kill -9.
func startAuditBackground(ctx context.Context, cfg *config.Config, f *auditSourceFlags, events *bus.Bus, detect *ingest.Pipeline, logger *slog.Logger) (wait func(), err error) {
	sources, err := f.logSources(cfg)
	if err != nil {
		return nil, err
	}
	var tailers []*tail.Tailer
	for _, s := range sources {
		t, err := tail.New(tail.Options{Path: s.path, Cluster: s.cluster, Checkpoint: tailCheckpoint(s.path), Publisher: events, Logger: logger})
		if err != nil {
			return nil, err
		}
		tailers = append(tailers, t)
	}
	var wg sync.WaitGroup
	for _, t := range tailers {
		wg.Go(func() {
			if err := t.Run(ctx); err != nil {
				logger.Error("audit log tailer stopped", "error", err)
			}
		})
	}
	detect.State = &auditpkg.StateFile{Path: filepath.Join(paths.DataDir(), "audit", "correlation.json")}
	for _, s := range sources {
		logger.Info("tailing audit log", "file", s.path, "cluster", s.cluster)
	}
	return wg.Wait, nil
}
