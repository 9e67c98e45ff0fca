package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// syncBuffer is a goroutine-safe buffer for the server's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeSIGTERM runs `palisade serve` in-process, checks authentication
// and metrics over real TLS, then delivers a real SIGTERM and expects a clean
// exit with no goroutine left behind.
func TestServeSIGTERM(t *testing.T) {
	// signal.Notify starts a process-wide signal goroutine that never ends.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("os/signal.signal_recv"), goleak.IgnoreTopFunction("os/signal.loop"))
	data := t.TempDir()
	t.Setenv("PALISADE_DATA_DIR", data)

	var stdout, stderr syncBuffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: os.Getenv, Now: time.Now}
	done := make(chan int, 1)
	go func() {
		done <- Execute(context.Background(), []string{"serve", "--listen", "127.0.0.1:0", "--log-level", "info"}, env)
	}()

	addrRE := regexp.MustCompile(`serving https://(127\.0\.0\.1:\d+)`)
	var addr string
	for deadline := time.Now().Add(20 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited early with %d:\n%s", code, stderr.String())
		default:
		}
	}
	if addr == "" {
		t.Fatalf("serve never reported its address:\n%s", stderr.String())
	}

	caPEM, err := os.ReadFile(filepath.Join(data, "tls", "tls.crt"))
	if err != nil {
		t.Fatalf("self-signed certificate not written: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	tokens, err := os.ReadFile(filepath.Join(data, "api-tokens.csv"))
	if err != nil {
		t.Fatalf("token file not created: %v", err)
	}
	var token string
	for _, line := range strings.Split(string(tokens), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			token = strings.Split(line, ",")[0]
		}
	}
	if fi, _ := os.Stat(filepath.Join(data, "api-tokens.csv")); fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}

	if code, _ := get("/api/v1/info", ""); code != http.StatusUnauthorized {
		t.Errorf("unauthenticated /api/v1/info = %d, want 401", code)
	}
	if code, body := get("/api/v1/info", token); code != http.StatusOK || !strings.Contains(body, `"goVersion"`) {
		t.Errorf("authenticated /api/v1/info = %d %s", code, body)
	}
	if code, body := get("/metrics", ""); code != http.StatusOK || !strings.Contains(body, "palisade_http_requests_total") {
		t.Errorf("/metrics = %d, lacks palisade_http_requests_total", code)
	}
	if code, body := get("/api/v1/clusters", token); code != http.StatusOK || !strings.Contains(body, `"clusters"`) {
		t.Errorf("/api/v1/clusters (continuous posture) = %d %s", code, body)
	}
	if code, body := get("/readyz", ""); code != http.StatusOK {
		t.Errorf("/readyz = %d %s", code, body)
	}
	client.CloseIdleConnections()

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("serve exited %d after SIGTERM:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not exit after SIGTERM")
	}
	logs := stderr.String()
	if !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("no clean-stop log line:\n%s", logs)
	}
	if strings.Contains(logs, token) {
		t.Errorf("the API token appears in the logs")
	}
}

// TestServePortInUse checks that a failure late in start-up (the listen
// address is taken, after the audit pipeline has started) exits with the
// usage code instead of waiting for a signal.
func TestServePortInUse(t *testing.T) {
	t.Setenv("PALISADE_DATA_DIR", t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stdout, stderr syncBuffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: os.Getenv, Now: time.Now}
	done := make(chan int, 1)
	go func() {
		done <- Execute(context.Background(), []string{"serve", "--listen", ln.Addr().String()}, env)
	}()
	select {
	case code := <-done:
		if code != 2 || !strings.Contains(stderr.String(), "listen on "+ln.Addr().String()) {
			t.Errorf("exit %d, want 2 naming the address:\n%s", code, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not exit after failing to listen:\n%s", stderr.String())
	}
}
