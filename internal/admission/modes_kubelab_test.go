package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/server"
)

// TestModesThroughRealAPIServer runs warn mode and exceptions behind a real
// kube-apiserver: the real kubectl prints a warn-mode violation and the
// pod is created; an expired exception no longer admits a privileged pod,
// while the same exception unexpired does, and the expired use is logged
// and counted.
func TestModesThroughRealAPIServer(t *testing.T) {
	l := newLab(t)
	warn := l.engine(t, Warn)
	warn.Rules[0].Mode = Warn // image trust too
	var logs syncBuffer
	enforce := l.engine(t, Enforce,
		config.Exception{ID: "old", Owner: "sre", Reason: "node agent", Expires: time.Now().Add(-time.Hour),
			Match: config.Match{Rules: []string{"admission/pod-security-*"}, Namespace: "expired"}},
		config.Exception{ID: "current", Owner: "sre", Reason: "node agent", Expires: time.Now().Add(time.Hour),
			Match: config.Match{Rules: []string{"admission/pod-security-*"}, Namespace: "excepted"}},
	)
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	enforce.Metrics, enforce.Logger = m, slog.New(slog.NewJSONHandler(&logs, nil))
	// One webhook, two engines: the "warn" namespace is judged in warn mode.
	rv := reviewerFunc(func(ctx context.Context, ar *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		if ar.Namespace == "warn" {
			return warn.Review(ctx, ar)
		}
		return enforce.Review(ctx, ar)
	})
	c, cs := startWithWebhook(t, func(*kubelab.Cluster) Reviewer { return rv }, "warn", "expired", "excepted")
	ctx := t.Context()

	t.Run("warn mode: kubectl prints the warning and the pod is created", func(t *testing.T) {
		p := privileged(pod(l.Bare))
		p.Name = "warned"
		manifest, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "pod.json")
		if err := os.WriteFile(file, manifest, 0o600); err != nil {
			t.Fatal(err)
		}
		bin, args := c.Kubectl("create", "-n", "warn", "-f", file)
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("kubectl create: %v\n%s", err, stderr.String())
		}
		var warnings []string
		for line := range strings.Lines(stderr.String()) {
			if w, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "Warning: "); ok {
				warnings = append(warnings, w)
			}
		}
		if len(warnings) == 0 {
			t.Fatalf("kubectl printed no warning; stderr:\n%s", stderr.String())
		}
		if len(warnings) != 2 {
			t.Errorf("want a warning per policy (image trust, pod security), got %q", warnings)
		}
		for _, w := range warnings {
			t.Logf("kubectl: Warning: %s", w)
			if n := utf8.RuneCountInString(w); n >= maxWarning {
				t.Errorf("warning of %d characters, want < %d: %q", n, maxWarning, w)
			}
			// Both name the container, its image and the rule.
			var want []string
			switch {
			case strings.HasPrefix(w, "admission/image-trust: "):
				want = []string{"container c0", path.Base(l.Bare), "no scan"}
			case strings.HasPrefix(w, "admission/pod-security-baseline: "):
				want = []string{"container c0", path.Base(l.Bare), "privileged"}
			default:
				t.Errorf("warning %q names no rule", w)
			}
			for _, want := range want {
				if !strings.Contains(w, want) {
					t.Errorf("warning %q does not name %q", w, want)
				}
			}
		}
		if !strings.Contains(stdout.String(), "pod/warned created") {
			t.Errorf("kubectl stdout = %q", stdout.String())
		}
		if _, err := cs.CoreV1().Pods("warn").Get(ctx, "warned", metav1.GetOptions{}); err != nil {
			t.Errorf("the warned pod was not created: %v", err)
		}
	})

	t.Run("an expired exception no longer applies", func(t *testing.T) {
		p := privileged(pod(l.Good))
		p.Name = "agent"
		_, err := cs.CoreV1().Pods("expired").Create(ctx, p, metav1.CreateOptions{})
		if err == nil || !strings.Contains(err.Error(), "privileged") {
			t.Fatalf("err = %v, want a denial naming privileged", err)
		}
		if got := value(t, m.exceptions.WithLabelValues("expired")); got != 1 {
			t.Errorf(`exceptions_total{kind="expired"} = %v, want 1`, got)
		}
		if got := value(t, m.exceptions.WithLabelValues("exception")); got != 0 {
			t.Errorf(`exceptions_total{kind="exception"} = %v, want 0`, got)
		}
		if s := logs.String(); !strings.Contains(s, `"msg":"admission exception expired","exception":"old"`) {
			t.Errorf("the expired exception's use is not logged:\n%s", s)
		}
	})

	t.Run("the same exception unexpired applies", func(t *testing.T) {
		p := privileged(pod(l.Good))
		p.Name = "agent"
		if _, err := cs.CoreV1().Pods("excepted").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatalf("denied despite an unexpired exception: %v", err)
		}
		if got := value(t, m.exceptions.WithLabelValues("exception")); got != 1 {
			t.Errorf(`exceptions_total{kind="exception"} = %v, want 1`, got)
		}
	})
}

// reviewerFunc adapts a function to Reviewer.
type reviewerFunc func(ctx context.Context, ar *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse

func (f reviewerFunc) Review(ctx context.Context, ar *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	return f(ctx, ar)
}

// startWithWebhook starts a kubelab cluster, serves the Reviewer mk builds
// for it as its validating webhook, creates namespaces, and returns once the
// API server calls the webhook (an untrusted pod is denied).
func startWithWebhook(t *testing.T, mk func(*kubelab.Cluster) Reviewer, namespaces ...string) (*kubelab.Cluster, *kubernetes.Clientset) {
	t.Helper()
	c := kubelabtest.Start(t, kubelab.Options{})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	cert, err := server.LoadOrCreateSelfSigned(t.TempDir(), server.DefaultHosts(""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tokens, _ := server.ParseTokens("t", []byte("0123456789abcdef0123,ops\n"))
	srv, err := server.New(server.Options{TLS: &cert, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	srv.Handle("POST "+Path, &Handler{Reviewer: mk(c)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(srvCtx, ln) }()
	t.Cleanup(func() { cancel(); <-served })
	vwc, err := WebhookConfiguration(InstallOptions{
		URL:               "https://" + ln.Addr().String(),
		CABundle:          pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}),
		ExcludeNamespaces: []string{"kube-system", "palisade"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, vwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, ns := range append(namespaces, "probe") {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Webhook configurations load asynchronously.
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		p := pod("quay.io/evil/miner:1")
		p.Name = "probe-" + time.Now().Format("150405000000")
		_, err := cs.CoreV1().Pods("probe").Create(ctx, p, metav1.CreateOptions{})
		return err != nil && strings.Contains(err.Error(), "palisade denied"), nil
	})
	if err != nil {
		t.Fatal("the webhook never started denying untrusted pods")
	}
	return c, cs
}

// syncBuffer is a bytes.Buffer the webhook's goroutines write logs to
// while the test reads them.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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
