// Package server is Palisade's HTTP front: health and readiness, Prometheus
// metrics, the token-authenticated /api/v1/, and the mount points where the
// admission webhook, the audit receiver and the UI attach. It owns TLS, access
// logging and graceful shutdown so that no capability re-implements them.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configures a Server.
type Options struct {
	// TLS is the serving certificate. Nil means plain HTTP, which Serve
	// accepts only on a loopback listener.
	TLS *tls.Certificate
	// Tokens authenticates /api/v1/. Required.
	Tokens *Tokens
	// Logger receives access logs and lifecycle messages.
	Logger *slog.Logger
	// ShutdownTimeout bounds how long in-flight requests may run after
	// shutdown starts. Default 20s.
	ShutdownTimeout time.Duration
	// Info is served at /api/v1/info.
	Info any
	// ClientCAs, when set, makes the TLS listener ask for client
	// certificates (server.clientCA). It only asks: handlers verify them
	// (ClientCertAuditSource), so callers with tokens and no certificate
	// keep working and a wrong certificate gets a 401, not a reset.
	ClientCAs *x509.CertPool
	// HTTP1Only leaves HTTP/2 out of ALPN. The API server calls webhooks
	// it reaches through a Service over HTTP/1.1 only, and URL webhooks on
	// loopback over HTTP/2: benchmarks set it to measure the production
	// path on loopback.
	HTTP1Only bool
}

// ReadinessCheck reports an error while a dependency is unusable.
type ReadinessCheck func(ctx context.Context) error

// Server is the HTTP server. Build it with New, mount handlers, then Serve.
type Server struct {
	opts     Options
	logger   *slog.Logger
	mux      *http.ServeMux
	api      *http.ServeMux
	registry *prometheus.Registry
	metrics  *httpMetrics

	mu     sync.Mutex
	checks map[string]ReadinessCheck
}

// New builds a server with /healthz, /readyz, /metrics and /api/v1/info.
func New(opts Options) (*Server, error) {
	if opts.Tokens == nil {
		return nil, errors.New("server: API tokens are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 20 * time.Second
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{
		opts:     opts,
		logger:   opts.Logger.With("component", "server"),
		mux:      http.NewServeMux(),
		api:      http.NewServeMux(),
		registry: reg,
		metrics:  newHTTPMetrics(reg),
		checks:   map[string]ReadinessCheck{},
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	s.mux.Handle("/api/v1/", s.authenticate(s.api))
	s.api.HandleFunc("GET /api/v1/info", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.opts.Info)
	})
	s.api.HandleFunc("GET /api/v1/whoami", func(w http.ResponseWriter, r *http.Request) {
		p, _ := PrincipalFrom(r.Context())
		writeJSON(w, http.StatusOK, p)
	})
	s.api.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint: "+r.Method+" "+r.URL.Path)
	})
	return s, nil
}

// Registry is where capabilities register their Prometheus metrics.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Handle mounts h at pattern without API token authentication; the handler
// authenticates its callers itself (the admission webhook and the audit
// receiver are called by API servers with their own credentials).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// HandleAPI mounts h under /api/v1/, behind token authentication. pattern
// must start with "/api/v1/" (optionally after a method).
func (s *Server) HandleAPI(pattern string, h http.Handler) { s.api.Handle(pattern, h) }

// AddReadinessCheck makes /readyz fail while check fails.
func (s *Server) AddReadinessCheck(name string, check ReadinessCheck) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = check
}

// Handler returns the server's full handler chain, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.instrument(s.mux) }

// Serve serves on ln until ctx is done, then stops accepting connections and
// waits for in-flight requests (up to ShutdownTimeout) before returning.
// Plain HTTP is refused on a listener that is not loopback.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.opts.TLS == nil && !isLoopback(ln.Addr()) {
		return fmt.Errorf("refusing plain HTTP on %s: it is not a loopback address; configure TLS", ln.Addr())
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if s.opts.TLS != nil {
		scheme = "https"
		// HTTP/2 lets API clients (the CLI, the UI, CI uploads) share one
		// connection for concurrent requests. The API server's webhook
		// client deliberately speaks HTTP/1.1 (kubernetes#75791, so that
		// calls spread over replicas): its concurrent admission calls and
		// audit posts each need a connection, and IdleTimeout keeps them
		// for reuse.
		protos := []string{"h2", "http/1.1"}
		if s.opts.HTTP1Only {
			protos = []string{"http/1.1"}
			srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*s.opts.TLS}, MinVersion: tls.VersionTLS12, NextProtos: protos}
		if s.opts.ClientCAs != nil {
			srv.TLSConfig.ClientAuth = tls.RequestClientCert
		}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	s.logger.Info("serving", "address", scheme+"://"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.logger.Info("shutting down", "drain_timeout", s.opts.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		// Requests still running after the drain timeout are cut off.
		srv.Close()
		return fmt.Errorf("shut down: %w", err)
	}
	s.logger.Info("stopped")
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	checks := make(map[string]ReadinessCheck, len(s.checks))
	for k, v := range s.checks {
		checks[k] = v
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status, failed := http.StatusOK, []string{}
	for name, check := range checks {
		if err := check(ctx); err != nil {
			status = http.StatusServiceUnavailable
			// Names only: /readyz is unauthenticated and errors can carry
			// hosts and paths; the log has the details.
			failed = append(failed, name)
			s.logger.LogAttrs(ctx, slog.LevelWarn, "readiness check failed", slog.String("check", name), slog.Any("error", err))
		}
	}
	if status != http.StatusOK {
		slices.Sort(failed)
		writeJSON(w, status, map[string]any{"status": "not ready", "failed": failed})
		return
	}
	writeJSON(w, status, map[string]string{"status": "ready"})
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
