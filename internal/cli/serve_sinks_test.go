package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/audit/falcoevents"
	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/audit/sink"
	"github.com/palisade-sec/palisade/internal/config"
)

// sinkTestPrivilegedPod is a real-shaped RequestResponse audit event: a privileged
// pod created in shop.
const sinkTestPrivilegedPod = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"7c1d9a52-0000-4000-8000-0000000000aa","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/pods","verb":"create","user":{"username":"mallory","groups":["system:authenticated"]},"sourceIPs":["203.0.113.7"],"userAgent":"kubectl/v1.37.2","objectRef":{"resource":"pods","namespace":"shop","name":"web-0","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","namespace":"shop"},"spec":{"containers":[{"name":"web","image":"nginx:1.27","securityContext":{"privileged":true}}]}},"requestReceivedTimestamp":"2026-11-25T10:00:00.000000Z","stageTimestamp":"2026-11-25T10:00:00.020000Z","annotations":{"authorization.k8s.io/decision":"allow"}}`

const sinkTestFalcoShell = `{"hostname":"node-1","output":"Notice A shell was spawned in a container with an attached terminal","output_fields":{"container.id":"788861c3cf83","k8s.ns.name":"shop","k8s.pod.name":"web-0","proc.cmdline":"sh -c id"},"priority":"Notice","rule":"Terminal shell in container","source":"syscall","tags":["container","shell"],"time":"2026-11-25T10:01:00.000000000Z"}`

// TestServeForwardsAlerts runs `palisade serve` with a signed webhook sink
// and a file sink from palisade.yaml: an audit batch and a Falco alert
// POSTed to the server raise the privileged-pod-then-runtime-alert
// correlation, which reaches the webhook with a valid signature and the
// JSON lines file.
func TestServeForwardsAlerts(t *testing.T) {
	data := t.TempDir()
	t.Setenv("PALISADE_DATA_DIR", data)

	const secret = "hook-secret-0123456789"
	hook := newSignedHook(t, secret)

	alertsFile := filepath.Join(data, "alerts.jsonl")
	cfg := filepath.Join(data, "palisade.yaml")
	os.WriteFile(cfg, []byte(`audit:
  sinks:
  - {name: soc, type: webhook, url: "`+hook.url+`", secretEnv: TEST_HOOK_SECRET}
  - {name: archive, type: file, path: "`+alertsFile+`", minSeverity: high}
`), 0o600)
	tokens := filepath.Join(data, "tokens.csv")
	os.WriteFile(tokens, []byte("admin-token-0123456789,admin,palisade:admins\nsrc-token-0123456789,prod-eu,palisade:audit-sources\n"), 0o600)

	addr, stderr, _ := startPlainServe(t, cfg, tokens, map[string]string{"TEST_HOOK_SECRET": string(secret)})
	post := func(path, body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer src-token-0123456789")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
	}
	post(receiver.Path, `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[`+sinkTestPrivilegedPod+`]}`)
	post(falcoevents.Path, sinkTestFalcoShell)

	const rule = "privileged-pod-then-runtime-alert"
	has := func() bool {
		for _, a := range hook.alerts() {
			if a.RuleID == rule {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(60 * time.Second); !has(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the webhook never got %s; got %d alerts\n%s", rule, len(hook.alerts()), stderr.String())
		}
	}
	var lines []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(alertsFile)
		if lines = strings.Split(strings.TrimSpace(string(b)), "\n"); strings.Contains(string(b), rule) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the file sink never got %s:\n%s", rule, b)
		}
	}
	for _, l := range lines {
		var a sink.Alert
		if err := json.Unmarshal([]byte(l), &a); err != nil || a.ID == "" {
			t.Errorf("file sink line %q: %v", l, err)
		}
		if a.Severity.String() != "critical" && a.Severity.String() != "high" {
			t.Errorf("file sink (minSeverity high) got a %s alert", a.Severity)
		}
	}
	if strings.Contains(stderr.String(), secret) {
		t.Error("the webhook secret appears in the logs")
	}
}

func TestBuildSinks(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "hive.key")
	os.WriteFile(keyFile, []byte("hive-key\n"), 0o600)
	env := map[string]string{"HOOK": "k", "SLACK_URL": "https://hooks.slack.example/services/T/B/X"}
	getenv := func(k string) string { return env[k] }
	all := []config.AuditSink{
		{Name: "soc", Type: config.SinkWebhook, URL: "https://soc.example", SecretEnv: "HOOK"},
		{Name: "oncall", Type: config.SinkSlack, URLEnv: "SLACK_URL", MinSeverity: "high"},
		{Name: "am", Type: config.SinkAlertmanager, URL: "http://am:9093"},
		{Name: "archive", Type: config.SinkFile, Path: filepath.Join(dir, "a.jsonl")},
		{Name: "hive", Type: config.SinkTheHive, URL: "https://hive.example", SecretFile: keyFile},
	}
	sinks, closers, err := buildSinks(all, getenv)
	if err != nil {
		t.Fatal(err)
	}
	closeAll(closers)
	var names []string
	for _, s := range sinks {
		names = append(names, s.Name())
	}
	if strings.Join(names, ",") != "soc,oncall,am,archive,hive" {
		t.Errorf("sinks %v", names)
	}
	for _, tc := range []struct {
		name string
		sink config.AuditSink
		want string
	}{
		{"unset secret", config.AuditSink{Name: "w", Type: config.SinkWebhook, URL: "https://x", SecretEnv: "NOPE"}, "NOPE is empty or unset"},
		{"unset url", config.AuditSink{Name: "s", Type: config.SinkSlack, URLEnv: "NOPE_URL"}, "NOPE_URL (urlEnv)"},
		{"hive without key", config.AuditSink{Name: "h", Type: config.SinkTheHive, URL: "https://x"}, "API key is required"},
	} {
		_, _, err := buildSinks([]config.AuditSink{tc.sink}, getenv)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "audit sink "+tc.sink.Name) {
			t.Errorf("%s: err = %v, want it to name the sink and contain %q", tc.name, err, tc.want)
		}
	}
}

// signedHook is an alert webhook sink's receiving end: it verifies each
// delivery's signature and keeps the alerts.
type signedHook struct {
	url string
	mu  sync.Mutex
	got []sink.Alert
}

func newSignedHook(t *testing.T, secret sink.Secret) *signedHook {
	t.Helper()
	h := &signedHook{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := sink.Verify(secret, r.Header.Get(sink.TimestampHeader), r.Header.Get(sink.SignatureHeader), body, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook delivery does not verify: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p sink.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		h.mu.Lock()
		h.got = append(h.got, p.Alerts...)
		h.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// alerts returns a copy of the alerts received so far.
func (h *signedHook) alerts() []sink.Alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

// startPlainServe runs `palisade serve` in-process on a loopback port with
// plain HTTP, config cfg, tokens file tokens and env overriding the
// environment. It returns the address once serve reports it, serve's
// stderr, and when serve was started; serve stops when the test ends.
func startPlainServe(t *testing.T, cfg, tokens string, env map[string]string) (string, *syncBuffer, time.Time) {
	t.Helper()
	var stdout, stderr syncBuffer
	e := Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Now: time.Now,
		Getenv: func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			return os.Getenv(k)
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	started := time.Now()
	go func() {
		done <- Execute(ctx, []string{"serve", "--config", cfg, "--listen", "127.0.0.1:0", "--plain-http", "--tokens-file", tokens, "--log-level", "info"}, e)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	addrRE := regexp.MustCompile(`serving http://(127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			return m[1], &stderr, started
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited early with %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never reported its address:\n%s", stderr.String())
		}
	}
}
