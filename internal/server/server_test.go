package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

const testToken = "0123456789abcdef0123456789abcdef"

func newTestServer(t *testing.T) *Server {
	t.Helper()
	tokens, err := ParseTokens("tokens.csv", []byte("# test\n"+testToken+",ci,deployers\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Tokens: tokens, Info: map[string]string{"version": "test"}, ShutdownTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serve starts s on a loopback listener and returns its base URL and a stop
// function that cancels and waits for Serve to return.
func serve(t *testing.T, s *Server) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), func() error { cancel(); return <-done }
}

func TestAPIAuthentication(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := newTestServer(t)
	base, stop := serve(t, s)
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()

	tests := []struct {
		name   string
		path   string
		header string
		want   int
	}{
		{"no token", "/api/v1/info", "", http.StatusUnauthorized},
		{"wrong token", "/api/v1/info", "Bearer " + strings.Repeat("x", 32), http.StatusUnauthorized},
		{"basic auth is not a token", "/api/v1/info", "Basic " + testToken, http.StatusUnauthorized},
		{"empty bearer", "/api/v1/info", "Bearer ", http.StatusUnauthorized},
		{"valid token", "/api/v1/info", "Bearer " + testToken, http.StatusOK},
		{"unknown API path still authenticated", "/api/v1/nope", "", http.StatusUnauthorized},
		{"unknown API path", "/api/v1/nope", "Bearer " + testToken, http.StatusNotFound},
		{"healthz is open", "/healthz", "", http.StatusOK},
		{"metrics are open", "/metrics", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, base+tt.path, nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("GET %s with %q: status %d, want %d", tt.path, tt.header, resp.StatusCode, tt.want)
			}
		})
	}

	// whoami names the token's principal.
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"Name": "ci"`) || !strings.Contains(string(body), "deployers") {
		t.Errorf("whoami = %s", body)
	}

	// /metrics counts the requests made above, by route pattern.
	resp, err = client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`palisade_http_requests_total{code="401",method="GET",route="/api/v1/"}`,
		`palisade_http_requests_total{code="200",method="GET",route="GET /healthz"}`,
		"go_goroutines",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	client.CloseIdleConnections()
	if err := stop(); err != nil {
		t.Fatalf("Serve returned %v", err)
	}
}

func TestReadyz(t *testing.T) {
	s := newTestServer(t)
	h := s.Handler()
	check := func(want int) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != want {
			t.Errorf("/readyz = %d %s, want %d", rec.Code, rec.Body, want)
		}
	}
	check(http.StatusOK)
	var broken error = errors.New("dial tcp 10.0.0.5:5432: connection refused")
	s.AddReadinessCheck("store", func(context.Context) error { return broken })
	check(http.StatusServiceUnavailable)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if strings.Contains(rec.Body.String(), "10.0.0.5") {
		t.Errorf("/readyz leaks the check's error to unauthenticated callers: %s", rec.Body)
	}
	broken = nil
	check(http.StatusOK)
}

func TestGracefulShutdownDrainsInFlight(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := newTestServer(t)
	started, release := make(chan struct{}), make(chan struct{})
	s.HandleAPI("GET /api/v1/slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	}))
	base, stop := serve(t, s)
	client := &http.Client{Timeout: 10 * time.Second}
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/slow", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := client.Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- result{string(b), err}
	}()
	<-started
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// Shutdown must wait for the in-flight request.
	select {
	case err := <-stopped:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: body %q, err %v", r.body, r.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	client.CloseIdleConnections()
}

func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	s := newTestServer(t)
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = s.Serve(t.Context(), ln)
	if err == nil || !strings.Contains(err.Error(), "refusing plain HTTP") {
		t.Fatalf("Serve on 0.0.0.0 without TLS: %v, want refusal", err)
	}
}

func TestTLSSelfSigned(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := t.TempDir()
	now := time.Now()
	cert, err := LoadOrCreateSelfSigned(dir, DefaultHosts(""), now)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateSelfSigned(dir, DefaultHosts(""), now)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(cert) != Fingerprint(again) {
		t.Errorf("certificate regenerated although the stored one is valid")
	}
	// A host the stored certificate does not cover forces a new one.
	other, err := LoadOrCreateSelfSigned(dir, append(DefaultHosts(""), "palisade.example"), now)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(other) == Fingerprint(cert) {
		t.Errorf("certificate not regenerated for a new host")
	}

	// TLS makes a non-loopback listener acceptable.
	if proto := tlsHealthzProto(t, other, false, "0.0.0.0:0"); proto != 2 {
		t.Errorf("served HTTP/%d over TLS, want HTTP/2", proto)
	}
}

// tlsHealthzProto serves a server with cert on listen, GETs /healthz over
// loopback with a client that verifies cert and asks for HTTP/2 (as
// client-go's API clients do: concurrent requests share one connection),
// stops the server and returns the major HTTP version served.
func tlsHealthzProto(t *testing.T, cert tls.Certificate, http1Only bool, listen string) int {
	t.Helper()
	tokens, _ := ParseTokens("t", []byte(testToken+",ci\n"))
	s, err := New(Options{Tokens: tokens, TLS: &cert, HTTP1Only: http1Only})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	port := ln.Addr().(*net.TCPAddr).Port
	resp, err := client.Get("https://127.0.0.1:" + strconv.Itoa(port) + "/healthz")
	if err != nil {
		t.Fatalf("TLS request verified against the self-signed certificate: %v", err)
	}
	resp.Body.Close()
	client.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return resp.ProtoMajor
}

func TestParseTokens(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"ok", testToken + ",ci,a,b\n", ""},
		{"short token", "abc,ci\n", "shorter than 16"},
		{"no name", testToken + "\n", "want token,name"},
		{"duplicate", testToken + ",a\n" + testToken + ",b\n", "repeats"},
		{"empty", "# nothing\n", "no tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := ParseTokens("tokens.csv", []byte(tt.in))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p, ok := tok.Authenticate(testToken); !ok || p.Name != "ci" || len(p.Groups) != 2 {
					t.Errorf("Authenticate = %+v, %v", p, ok)
				}
				if strings.Contains(tok.String(), testToken) {
					t.Errorf("String() reveals the token")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error reveals the token: %v", err)
			}
		})
	}
}

// TestHTTP1Only checks that HTTP1Only leaves HTTP/2 out even for a client
// that asks for it, as the API server's webhook client gets from a
// Service-referenced webhook.
func TestHTTP1Only(t *testing.T) {
	cert, err := LoadOrCreateSelfSigned(t.TempDir(), DefaultHosts(""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if proto := tlsHealthzProto(t, cert, true, "127.0.0.1:0"); proto != 1 {
		t.Errorf("served HTTP/%d, want HTTP/1.1", proto)
	}
}
