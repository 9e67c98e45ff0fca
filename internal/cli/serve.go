package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	auditpkg "github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/audit/ingest"
	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/buildinfo"
	"github.com/palisade-sec/palisade/internal/bus"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/paths"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
	storeopen "github.com/palisade-sec/palisade/internal/store/open"
)

type serveFlags struct {
	listen     string
	tlsCert    string
	tlsKey     string
	plainHTTP  bool
	tokensFile string
	storeDSN   string
	natsURL    string
	sources    auditSourceFlags
	admission  admissionServeFlags
}

func newServeCommand(g *globals) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Palisade server: API, metrics, admission webhook and audit receiver",
		Long: `Run the Palisade server.

It serves HTTPS with the certificate given by --tls-cert/--tls-key, or with a
self-signed certificate it generates once and keeps in the data directory.
Plain HTTP (--plain-http) is allowed only on a loopback address.

/healthz and /readyz report liveness and readiness, /metrics serves Prometheus
metrics, and /api/v1/ requires a bearer token from the token file (created
with one fresh admin token on first start; the log names the file, never the
token). Kubernetes API servers deliver audit events to /audit/v1/webhook with a
token whose group is palisade:audit-sources (the token's name is the cluster's
name), or with a client certificate signed by --client-ca (its CN is the
cluster's name; its O, if any, must include palisade:audit-sources); a batch is
answered only once it is stored on the event bus. --audit-log-path tails an API
server's JSON audit log file instead, following rotation and resuming after a
restart from a checkpoint in the data directory. audit.connectors pull the
audit logs of managed clusters from CloudWatch Logs (EKS), Pub/Sub (GKE) and
Event Hubs (AKS) onto the same bus, acknowledging the cloud side only after
the bus stored them. Sequence correlation state is
saved in the data directory and restored at start. The
validating admission webhook is served at /admission/v1/validate (policies
from the admission section of palisade.yaml; uploaded scan records from the
store count as scans; namespace pod-security labels are read with --kubeconfig
or in-cluster), and with admission.imageTrust.pinDigests the digest-pinning
mutating webhook at /admission/v1/mutate. Falco alerts (http_output) are
accepted at /falco/v1/alerts with the same audit-source credentials and join
the audit stream (audit.falco.enabled). Clusters listed in posture.clusters
and those registered at /api/v1/clusters are watched by continuous posture:
scanned at start and on change, with critical exposure raised as alerts.
Alerts, audit and posture alike, are forwarded to the sinks of
audit.sinks with retries and a dead-letter record; audit events older than
audit.retention.events are deleted hourly; audit.retention.busMaxAge and
busMaxBytes bound the event bus. SIGTERM or SIGINT starts a graceful shutdown that lets in-flight
requests finish.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, g, cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "", "host:port to listen on (default: server.listen from config, 127.0.0.1:8443)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate chain (default: server.tls.certFile, else self-signed)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "PEM private key for --tls-cert")
	fl.BoolVar(&f.plainHTTP, "plain-http", false, "serve plain HTTP; refused unless --listen is a loopback address")
	fl.StringVar(&f.tokensFile, "tokens-file", "", "API token file, lines of token,name[,group...] (default: server.tokensFile, else "+paths.APITokens()+")")
	fl.StringVar(&f.storeDSN, "store", "", "store DSN: a SQLite path or postgres://… (default: store.dsn, else "+paths.Store()+")")
	fl.StringVar(&f.natsURL, "nats-url", "", "external NATS JetStream URL(s) for the event bus (default: embedded, stored in "+paths.BusDir()+")")
	f.sources.register(cmd)
	f.admission.register(cmd)
	return cmd
}

func runServe(ctx context.Context, g *globals, cmd *cobra.Command, f serveFlags) error {
	cfg := g.cfg
	logger := g.logger
	listen := firstNonEmpty(f.listen, cfg.Server.Listen, "127.0.0.1:8443")
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return usageError(fmt.Errorf("--listen %q: %w", listen, err))
	}
	certFile, keyFile := firstNonEmpty(f.tlsCert, cfg.Server.TLS.CertFile), firstNonEmpty(f.tlsKey, cfg.Server.TLS.KeyFile)
	if (certFile == "") != (keyFile == "") {
		return usageError(errors.New("--tls-cert and --tls-key must be given together"))
	}
	if f.plainHTTP && certFile != "" {
		return usageError(errors.New("--plain-http and a TLS certificate exclude each other"))
	}
	if f.plainHTTP && !isLoopbackHost(host) {
		return usageError(fmt.Errorf("--plain-http on %s: plain HTTP is only allowed on a loopback address (127.0.0.1, ::1, localhost)", listen))
	}

	tokensFile := firstNonEmpty(f.tokensFile, cfg.Server.TokensFile)
	if tokensFile == "" {
		tokensFile = paths.APITokens()
		created, err := server.EnsureTokenFile(tokensFile)
		if err != nil {
			return err
		}
		if created {
			logger.Info("created API token file with a new admin token", "file", tokensFile)
		}
	}
	tokens, err := server.LoadTokens(tokensFile)
	if err != nil {
		return usageError(err)
	}

	var cert *tls.Certificate
	switch {
	case certFile != "":
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return usageError(fmt.Errorf("load TLS certificate %s: %w", certFile, err))
		}
		cert = &c
	case !f.plainHTTP:
		c, err := server.LoadOrCreateSelfSigned(paths.ServerTLSDir(), server.DefaultHosts(host), g.env.Now())
		if err != nil {
			return err
		}
		logger.Info("using self-signed certificate", "dir", paths.ServerTLSDir(), "sha256", server.Fingerprint(c))
		cert = &c
	}

	dsn := firstNonEmpty(f.storeDSN, cfg.Store.DSN)
	st, err := storeopen.Open(ctx, dsn, logger)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()

	clientCAs, err := f.sources.clientCAs(cfg)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Options{
		ClientCAs:       clientCAs,
		TLS:             cert,
		Tokens:          tokens,
		Logger:          logger,
		ShutdownTimeout: time.Duration(cfg.Server.ShutdownTimeout),
		Info:            buildinfo.Get(),
	})
	if err != nil {
		return err
	}
	srv.MountStoreAPI(st)

	maxAge, maxBytes := busLimits(cfg)
	events, err := bus.Open(ctx, bus.Options{URL: f.natsURL, Dir: paths.BusDir(), Logger: logger, MaxAge: maxAge, MaxBytes: maxBytes})
	if err != nil {
		return fmt.Errorf("open event bus: %w", err)
	}
	defer events.Close()
	srv.AddReadinessCheck("bus", events.Ping)
	authenticate, err := auditAuthenticator(clientCAs, tokens)
	if err != nil {
		return err
	}
	audit, err := receiver.New(receiver.Options{Publisher: events, Authenticate: authenticate, Logger: logger, Registerer: srv.Registry()})
	if err != nil {
		return err
	}
	srv.Handle("POST "+receiver.Path, audit)
	if err := mountFalco(cfg, srv.Handle, events, authenticate, srv.Registry(), logger); err != nil {
		return err
	}
	detect, err := newAuditPipeline(cfg, events, st, logger)
	if err != nil {
		return err
	}
	// Log tailers, and where the pipeline keeps its correlation state
	// (it restores the state itself before the first event).
	bgCtx, bgStop := context.WithCancel(ctx)
	bgWait, err := startAuditBackground(bgCtx, cfg, &f.sources, events, detect, logger)
	if err != nil {
		bgStop()
		return err
	}
	defer func() { bgStop(); bgWait() }()
	// Pull connectors (audit.connectors) feed the same bus as the receiver.
	cnCtx, cnStop := context.WithCancel(ctx)
	cnWait, err := startAuditConnectors(cnCtx, cfg, g.env.Getenv, events, logger)
	if err != nil {
		cnStop()
		return err
	}
	defer func() { cnStop(); cnWait() }()
	// The pipeline gets its own context: when start-up fails below, serve
	// must stop it and return, not wait for a signal that never comes.
	pipeCtx, pipeStop := context.WithCancel(ctx)
	pipelineDone := make(chan error, 1)
	go func() { pipelineDone <- detect.Run(pipeCtx) }()
	defer func() {
		pipeStop()
		if err := <-pipelineDone; err != nil {
			logger.Error("audit pipeline stopped", "error", err)
		}
	}()
	fwCtx, fwStop := context.WithCancel(ctx)
	fwWait, err := startAuditForwarding(fwCtx, cfg, g.env.Getenv, events, st, srv.Registry(), logger)
	if err != nil {
		fwStop()
		return err
	}
	defer func() { fwStop(); fwWait() }()

	if err := mountAdmission(ctx, cfg, f.admission, g.env.Getenv, srv, st, logger); err != nil {
		return err
	}
	stopPosture, err := startContinuousPosture(ctx, cfg, srv, st, events, logger)
	if err != nil {
		return err
	}
	defer stopPosture()

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return usageError(fmt.Errorf("listen on %s: %w", listen, err))
	}
	scheme := "https"
	if cert == nil {
		scheme = "http"
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "palisade: serving %s://%s (API token file: %s)\n", scheme, ln.Addr(), tokensFile)
	return srv.Serve(ctx, ln)
}

// newAuditPipeline builds the consumer that stores audit events from the
// bus, runs the built-in detection rules over them and stores the alerts.
func newAuditPipeline(cfg *config.Config, events *bus.Bus, st store.Store, logger *slog.Logger) (*ingest.Pipeline, error) {
	env, err := auditpkg.NewCELEnv()
	if err != nil {
		return nil, err
	}
	rules, err := auditpkg.Builtin(env)
	if err != nil {
		return nil, fmt.Errorf("load built-in audit rules: %w", err)
	}
	if err := falcoRules(env, rules); err != nil {
		return nil, err
	}
	engine, err := auditpkg.NewEngine(rules, auditpkg.EngineOptions{Exceptions: cfg.Exceptions, Logger: logger})
	if err != nil {
		return nil, err
	}
	return &ingest.Pipeline{Bus: events, Store: pipelineStore(cfg, events, st), Engine: engine, Logger: logger.With("component", "audit_pipeline")}, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
