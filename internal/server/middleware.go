package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "palisade_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "palisade_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "palisade_http_requests_in_flight", Help: "HTTP requests being served.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.inflight)
	return m
}

// statusWriter records the status code and body size for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument wraps every request with panic recovery, metrics and one
// structured access-log line. The route label is the mux pattern, not the
// path, so hostile paths cannot blow up metric cardinality.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		// The principal is filled in by authenticate via the shared holder,
		// so the access log can name who made the request; the mux records
		// the matched pattern on this same request value.
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, &principalHolder{}))
		s.metrics.inflight.Inc()
		defer func() {
			s.metrics.inflight.Dec()
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.LogAttrs(r.Context(), slog.LevelError, "handler panic", slog.String("path", r.URL.Path), slog.Any("panic", v))
				if sw.code == 0 {
					writeError(sw, http.StatusInternalServerError, "internal error")
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			elapsed := time.Since(start)
			s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(code)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(elapsed.Seconds())
			user := ""
			if p, ok := PrincipalFrom(r.Context()); ok {
				user = p.Name
			}
			// Query strings are not logged: they may carry tokens.
			s.logger.LogAttrs(r.Context(), slog.LevelInfo, "http request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
				slog.Int("status", code), slog.Int64("bytes", sw.bytes), slog.Duration("duration", elapsed),
				slog.String("remote", r.RemoteAddr), slog.String("user", user), slog.String("user_agent", r.UserAgent()))
		}()
		next.ServeHTTP(sw, r)
	})
}

type principalKey struct{}

type principalHolder struct {
	p  Principal
	ok bool
}

// PrincipalFrom returns the authenticated caller of an /api/v1/ request.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	h, _ := ctx.Value(principalKey{}).(*principalHolder)
	if h == nil || !h.ok {
		return Principal{}, false
	}
	return h.p, true
}

func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, found := BearerToken(r)
		if !found {
			w.Header().Set("WWW-Authenticate", `Bearer realm="palisade"`)
			writeError(w, http.StatusUnauthorized, "missing bearer token")
			return
		}
		p, ok := s.opts.Tokens.Authenticate(token)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="palisade", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "invalid bearer token")
			return
		}
		h, _ := r.Context().Value(principalKey{}).(*principalHolder)
		if h == nil {
			h = &principalHolder{}
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, h))
		}
		h.p, h.ok = p, true
		next.ServeHTTP(w, r)
	})
}

// BearerToken returns the token of an "Authorization: Bearer" header.
func BearerToken(r *http.Request) (string, bool) {
	token, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	return token, found && token != ""
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeError answers with {"error": msg}; msg is user text, never a raw
// internal error.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
