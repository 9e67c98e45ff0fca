package bench

import (
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/admission"
	"github.com/palisade-sec/palisade/internal/admission/admissiontest"
	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/server"
)

// BenchmarkAdmissionThroughAPIServer runs the shape of Kyverno's published
// load test against a real kube-apiserver: N pods created at once (N = 50,
// 200, 500), with Palisade's webhook (image trust with attestation
// verification + PSS restricted) and without it, in the same run. The
// baseline namespace is excluded by the webhook's namespaceSelector, so the
// two rounds differ only by the webhook call; rounds alternate so machine
// load drifts over both alike.
//
// Kyverno's published figures (1 replica): +63 ms p99 over no webhook at 200
// concurrent creates, +800 ms at 500.
func BenchmarkAdmissionThroughAPIServer(b *testing.B) {
	l := admissiontest.New(b)
	v, err := admission.NewVerifier(l.Registry, []*attest.PublicKey{l.Key.Public()}, 1024)
	if err != nil {
		b.Fatal(err)
	}
	pss, err := admission.NewPodSecurity("restricted", "latest")
	if err != nil {
		b.Fatal(err)
	}
	engine := &admission.Engine{Rules: []admission.Rule{
		{Policy: &admission.ImageTrust{Registries: config.Registries{Trusted: []string{"127.0.0.1:*/shop/*"}}, Verifier: v}, Mode: admission.Enforce},
		{Policy: pss, Mode: admission.Enforce},
	}}
	served := &timedHandler{h: &admission.Handler{Engine: engine}}
	addr, caPEM := serveWebhook(b, served)
	vwc, err := admission.WebhookConfiguration(admission.InstallOptions{
		URL: "https://" + addr, CABundle: caPEM, ExcludeNamespaces: []string{"kube-system", "palisade", "free"},
	})
	if err != nil {
		b.Fatal(err)
	}
	c := kubelabtest.Start(b, kubelab.Options{ValidatingWebhooks: []admissionregistrationv1.ValidatingWebhookConfiguration{*vwc}})
	cfg := rest.CopyConfig(c.Config)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side throttling: measure the server
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := b.Context()
	for _, ns := range []string{"shop", "free"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	// Wait until the webhook is live (an unattested image is denied), then
	// warm the verdict cache with one admitted pod.
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		_, err := cs.CoreV1().Pods("shop").Create(ctx, benchPod(fmt.Sprintf("probe-%d", time.Now().UnixNano()), l.Bare), metav1.CreateOptions{})
		return err != nil && strings.Contains(err.Error(), "palisade denied"), nil
	})
	if err != nil {
		b.Fatal("the webhook never started denying unattested pods")
	}
	if _, err := cs.CoreV1().Pods("shop").Create(ctx, benchPod("warm", l.Good), metav1.CreateOptions{}); err != nil {
		b.Fatalf("attested pod denied: %v", err)
	}

	sizes := []int{50, 200, 500}
	with, without := map[int][]time.Duration{}, map[int][]time.Duration{}
	round, iter := 0, 0
	for b.Loop() {
		iter++
		for j, n := range sizes {
			round++
			// Alternate which goes first, per size from one iteration to
			// the next: the first burst after a delete pays for
			// compaction the second does not (hundreds of ms at N = 200),
			// so run with -benchtime 2x or more for a fair ratio.
			withFirst := (iter+j)%2 == 0
			if withFirst {
				with[n] = append(with[n], createBurst(b, cs, "shop", n, round, l.Good)...)
			}
			without[n] = append(without[n], createBurst(b, cs, "free", n, round, l.Good)...)
			if !withFirst {
				with[n] = append(with[n], createBurst(b, cs, "shop", n, round, l.Good)...)
			}
		}
	}
	// Where the time goes: the webhook's own time per review, and the API
	// server's time per webhook call (its metric), which adds what it
	// spends encoding the review, the round trip and decoding the answer.
	calls, callSum := apiserverWebhookTime(b, cs)
	if calls > 0 && served.n.Load() > 0 {
		b.Logf("webhook: %d reviews, mean %v in the handler; API server: %d calls, mean %v per call",
			served.n.Load(), (time.Duration(served.ns.Load()) / time.Duration(served.n.Load())).Round(time.Microsecond),
			calls, (time.Duration(callSum*1e9) / time.Duration(calls)).Round(time.Microsecond))
	}
	for _, n := range sizes {
		a, o := with[n], without[n]
		slices.Sort(a)
		slices.Sort(o)
		ratio := float64(mean(a)) / float64(mean(o))
		b.ReportMetric(ratio, fmt.Sprintf("x-no-webhook-mean-%d", n))
		b.ReportMetric(float64(quantile(a, 0.99)-quantile(o, 0.99))/1e6, fmt.Sprintf("added-p99-ms-%d", n))
		b.Logf("%3d concurrent creates: without webhook p50 %v p99 %v mean %v; with Palisade p50 %v p99 %v mean %v; mean %.2f× baseline, p99 +%v (Kyverno published: +63 ms @200, +800 ms @500)",
			n, quantile(o, 0.5).Round(time.Millisecond), quantile(o, 0.99).Round(time.Millisecond), mean(o).Round(time.Millisecond),
			quantile(a, 0.5).Round(time.Millisecond), quantile(a, 0.99).Round(time.Millisecond), mean(a).Round(time.Millisecond),
			ratio, (quantile(a, 0.99) - quantile(o, 0.99)).Round(time.Millisecond))
	}
}

// createBurst creates n pods at once in ns and returns each create's
// latency, then deletes them so etcd stays the same size across rounds.
func createBurst(b *testing.B, cs kubernetes.Interface, ns string, n, round int, image string) []time.Duration {
	b.Helper()
	ctx := b.Context()
	lat := make([]time.Duration, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p := benchPod(fmt.Sprintf("r%d-%d", round, i), image)
			<-start
			t0 := time.Now()
			_, errs[i] = cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
			lat[i] = time.Since(t0)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatalf("create in %s: %v", ns, err)
		}
	}
	zero := int64(0)
	if err := cs.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{}); err != nil {
		b.Fatalf("delete pods in %s: %v", ns, err)
	}
	return lat
}

// benchPod is a restricted-compliant pod of three containers.
func benchPod(name, image string) *corev1.Pod {
	sc := &corev1.SecurityContext{
		AllowPrivilegeEscalation: new(false),
		RunAsNonRoot:             new(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}}}
	for i := range 3 {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Image: image, SecurityContext: sc})
	}
	return p
}

// serveWebhook serves h over TLS on loopback for the test's lifetime and
// returns its address and the PEM of its self-signed certificate.
func serveWebhook(b *testing.B, h http.Handler) (string, []byte) {
	b.Helper()
	cert, err := server.LoadOrCreateSelfSigned(b.TempDir(), server.DefaultHosts(""), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	tokens, _ := server.ParseTokens("t", []byte("0123456789abcdef0123,ops\n"))
	srv, err := server.New(server.Options{TLS: &cert, Tokens: tokens})
	if err != nil {
		b.Fatal(err)
	}
	srv.Handle("POST "+admission.Path, h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	b.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
}

func quantile(d []time.Duration, q float64) time.Duration { return d[int(q*float64(len(d)-1))] }

func mean(d []time.Duration) time.Duration {
	var s time.Duration
	for _, x := range d {
		s += x
	}
	return s / time.Duration(len(d))
}

// timedHandler counts the reviews it serves and their total time.
type timedHandler struct {
	h     http.Handler
	n, ns atomic.Int64
}

func (t *timedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	t.h.ServeHTTP(w, r)
	t.n.Add(1)
	t.ns.Add(int64(time.Since(start)))
}

// apiserverWebhookTime reads the API server's own histogram of validating
// webhook calls: their count and total seconds.
func apiserverWebhookTime(b *testing.B, cs kubernetes.Interface) (count int64, sum float64) {
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(b.Context())
	if err != nil {
		b.Logf("read API server metrics: %v", err)
		return 0, 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "apiserver_admission_webhook_admission_duration_seconds_") || !strings.Contains(line, `type="validating"`) {
			continue
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		switch {
		case strings.HasPrefix(line, "apiserver_admission_webhook_admission_duration_seconds_count"):
			count += int64(v)
		case strings.HasPrefix(line, "apiserver_admission_webhook_admission_duration_seconds_sum"):
			sum += v
		}
	}
	return count, sum
}
