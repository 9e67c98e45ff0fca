package bench

import (
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/admission"
	"github.com/palisade-sec/palisade/internal/admission/admissiontest"
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
//
// Two protocols: the API server calls a webhook it reaches through a
// Service (every production install) over HTTP/1.1 only, keeping 25 idle
// connections, so a burst pays a TLS handshake per concurrent call beyond
// them; it calls a URL webhook on loopback over HTTP/2, one connection.
// Kubelab has no Service routing, so "service-http1" serves HTTP/1.1 only
// on loopback to measure the production path.
//
// "service-http1-own-core" is the production path in a cluster's topology:
// the webhook runs in its own process on CPU 1, while etcd, the API server
// and the client share CPU 0 (in a cluster the webhook's pods run on worker
// nodes, not on the control plane's cores). Its ratio is then what the API
// server's side of a webhook call costs a create.
func BenchmarkAdmissionThroughAPIServer(b *testing.B) {
	b.Run("service-http1", func(b *testing.B) { throughAPIServer(b, true, false) })
	b.Run("url-loopback-h2", func(b *testing.B) { throughAPIServer(b, false, false) })
	b.Run("service-http1-own-core", func(b *testing.B) {
		if runtime.NumCPU() < 2 {
			b.Skip("needs 2 CPUs: one for the control plane and client, one for the webhook")
		}
		throughAPIServer(b, true, true)
	})
}

func throughAPIServer(b *testing.B, http1Only, ownCore bool) {
	l := admissiontest.New(b)
	// The null webhook decodes the review and allows it: the least any
	// webhook does, so "null" is the API server's own cost of calling one
	// and "palisade − null" is what Palisade's policies add.
	var wh, null benchWebhook
	if ownCore {
		wh = childWebhook(b, l.Key.Public(), http1Only, false, 1)
		null = childWebhook(b, l.Key.Public(), http1Only, true, 1)
	} else {
		wh = inProcessWebhook(b, &admission.Handler{Engine: mustBenchEngine(b, l.Registry, l.Key.Public())}, http1Only)
		null = inProcessWebhook(b, &admission.Handler{Reviewer: allowAll{}}, http1Only)
	}
	var vwcs []admissionregistrationv1.ValidatingWebhookConfiguration
	for _, w := range []struct {
		name string
		wh   benchWebhook
		skip string
	}{{"palisade", wh, "null"}, {"null", null, "shop"}} {
		vwc, err := admission.WebhookConfiguration(admission.InstallOptions{
			URL: "https://" + w.wh.addr, CABundle: w.wh.caPEM, ExcludeNamespaces: []string{"kube-system", "palisade", "free", w.skip},
		})
		if err != nil {
			b.Fatal(err)
		}
		vwc.Name += "-" + w.name
		for i := range vwc.Webhooks {
			vwc.Webhooks[i].Name = w.name + "." + vwc.Webhooks[i].Name
			if ownCore {
				// One core for etcd, the API server and the client is
				// saturated for seconds by a 500-pod burst, and the API
				// server's clock for the webhook call runs while it waits
				// for that core: measure latency, not the 3 s timeout's
				// failures.
				vwc.Webhooks[i].TimeoutSeconds = new(int32(10))
			}
		}
		vwcs = append(vwcs, *vwc)
	}
	opts := kubelab.Options{ValidatingWebhooks: vwcs}
	profile := os.Getenv("PALISADE_BENCH_APISERVER_PROFILE")
	if profile != "" {
		opts.ExtraAPIServerFlags = []string{"--profiling=true"} // kubelab turns it off, as CIS 1.2.18 asks
	}
	c := kubelabtest.Start(b, opts)
	cfg := rest.CopyConfig(c.Config)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side throttling: measure the server
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := b.Context()
	if ownCore {
		// etcd, the API server and this process (the client) on CPU 0;
		// the webhook children were started on CPU 1.
		for _, pid := range append(c.PIDs(), os.Getpid()) {
			if err := pinCPU(pid, "0"); err != nil {
				b.Fatal(err)
			}
		}
		b.Cleanup(func() { _ = pinCPU(os.Getpid(), "0-"+strconv.Itoa(runtime.NumCPU()-1)) })
	}
	for _, ns := range []string{"shop", "null", "free"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	// Wait until the webhook is live (an unattested image is denied), then
	// warm the verdict cache with one admitted pod.
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		_, err := cs.CoreV1().Pods("shop").Create(ctx, benchPod(fmt.Sprintf("probe-%d", time.Now().UnixNano()), l.Bare), metav1.CreateOptions{})
		return err != nil && strings.Contains(err.Error(), "palisade denied"), nil
	})
	if err != nil {
		b.Fatal("the webhook never started denying unattested pods")
	}
	for _, ns := range []string{"shop", "null"} {
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, benchPod("warm", l.Good), metav1.CreateOptions{}); err != nil {
			b.Fatalf("attested pod denied in %s: %v", ns, err)
		}
	}

	// Three arms per size and iteration, run back to back so they see the
	// same machine; the order rotates between iterations because the first
	// burst after a delete pays for compaction the others do not (hundreds
	// of ms at N = 200): run with -benchtime 3x for a fair ratio.
	pids := append(c.PIDs(), wh.pid, null.pid) // etcd, kube-apiserver, the webhook children (0 in-process)
	arms := []*arm{
		{name: "without webhook", ns: "free"},
		{name: "null webhook", ns: "null", wh: &null},
		{name: "Palisade", ns: "shop", wh: &wh},
	}
	sizes := []int{50, 200, 500}
	for _, a := range arms {
		a.lat, a.means, a.cpu, a.conns = map[int][]time.Duration{}, map[int][]time.Duration{}, map[int]*cpuUse{}, map[int]int64{}
		for _, n := range sizes {
			a.cpu[n] = &cpuUse{pids: pids}
		}
	}
	// PALISADE_BENCH_APISERVER_PROFILE=FILE writes a CPU profile of the
	// API server over the first 30 s of bursts (see where its time for a
	// webhook call goes: go tool pprof FILE).
	if profile != "" {
		done := make(chan struct{})
		go func() {
			defer close(done)
			raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", "30").Timeout(time.Minute).DoRaw(context.Background())
			if err == nil {
				err = os.WriteFile(profile, raw, 0o600)
			}
			if err != nil {
				b.Logf("API server profile: %v", err)
			}
		}()
		b.Cleanup(func() { <-done })
	}
	round, iter := 0, 0
	for b.Loop() {
		iter++
		for j, n := range sizes {
			for k := range arms {
				a := arms[(iter+j+k)%len(arms)]
				round++
				var before int64
				if a.wh != nil {
					before = a.wh.stats().Conns
				}
				lat := createBurst(b, cs, a.ns, n, round, l.Good, a.cpu[n])
				if a.wh != nil {
					a.conns[n] += a.wh.stats().Conns - before
				}
				a.lat[n] = append(a.lat[n], lat...)
				a.means[n] = append(a.means[n], mean(lat))
			}
		}
	}
	// Where the time goes: the webhook's own time per review, and the API
	// server's time per webhook call (its metric), which adds what it
	// spends encoding the review, the round trip and decoding the answer.
	calls, callSum := apiserverWebhookTime(b, cs)
	if st := wh.stats(); calls > 0 && st.Reviews > 0 {
		b.Logf("Palisade: %d reviews, mean %v in the handler, at most %d at once; API server: %d calls to both webhooks, mean %v per call",
			st.Reviews, (time.Duration(st.HandlerNanos) / time.Duration(st.Reviews)).Round(time.Microsecond), st.Peak,
			calls, (time.Duration(callSum*1e9) / time.Duration(calls)).Round(time.Microsecond))
	}
	base, nul, pal := arms[0], arms[1], arms[2]
	for _, n := range sizes {
		o := base.lat[n]
		for _, a := range arms {
			slices.Sort(a.lat[n])
		}
		ratio := float64(mean(pal.lat[n])) / float64(mean(o))
		nullRatio := float64(mean(nul.lat[n])) / float64(mean(o))
		b.ReportMetric(ratio, fmt.Sprintf("x-no-webhook-mean-%d", n))
		b.ReportMetric(nullRatio, fmt.Sprintf("null-x-no-webhook-mean-%d", n))
		b.ReportMetric(medianRatio(pal.means[n], base.means[n]), fmt.Sprintf("x-no-webhook-median-iter-%d", n))
		b.ReportMetric(float64(mean(pal.lat[n]))/float64(mean(nul.lat[n])), fmt.Sprintf("x-null-webhook-mean-%d", n))
		b.ReportMetric(float64(quantile(pal.lat[n], 0.99)-quantile(o, 0.99))/1e6, fmt.Sprintf("added-p99-ms-%d", n))
		b.Logf("%3d concurrent creates: mean %.2f× no webhook (per iteration %s), null webhook %.2f× (per iteration %s); Palisade %.2f× the null webhook; new TLS connections per burst: Palisade %.0f, null %.0f",
			n, ratio, fmtRatios(ratiosOf(pal.means[n], base.means[n])), nullRatio, fmtRatios(ratiosOf(nul.means[n], base.means[n])),
			float64(mean(pal.lat[n]))/float64(mean(nul.lat[n])), float64(pal.conns[n])/float64(len(pal.means[n])), float64(nul.conns[n])/float64(len(nul.means[n])))
		for _, a := range arms {
			u := a.cpu[n].perCreate(len(a.lat[n]))
			b.Logf("%3d concurrent creates, %-15s p50 %v p99 %v mean %v; CPU per create: API server %v, etcd %v, this process (client%s) %v, webhook processes %v; total %v",
				n, a.name+":", quantile(a.lat[n], 0.5).Round(time.Millisecond), quantile(a.lat[n], 0.99).Round(time.Millisecond), mean(a.lat[n]).Round(time.Millisecond),
				u[1], u[0], map[bool]string{false: " + webhooks", true: ""}[ownCore], u[2], u[3]+u[4], u.total())
		}
	}
	b.Logf("Kyverno published: +63 ms p99 @200, +800 ms @500")
}

// arm is one way pods are created in the benchmark: in a namespace no
// webhook sees, one the null webhook sees, or one Palisade sees.
type arm struct {
	name  string
	ns    string
	wh    *benchWebhook
	lat   map[int][]time.Duration // every create's latency, per size
	means map[int][]time.Duration // each burst's mean, per size
	cpu   map[int]*cpuUse
	conns map[int]int64 // new connections to the webhook, per size
}

// allowAll admits everything: the null webhook's reviewer.
type allowAll struct{}

func (allowAll) Review(_ context.Context, ar *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{UID: ar.UID, Allowed: true}
}

func ratiosOf(a, b []time.Duration) []float64 {
	rs := make([]float64, len(a))
	for i := range a {
		rs[i] = float64(a[i]) / float64(b[i])
	}
	return rs
}

func medianRatio(a, b []time.Duration) float64 {
	rs := ratiosOf(a, b)
	slices.Sort(rs)
	if len(rs)%2 == 0 {
		return (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2
	}
	return rs[len(rs)/2]
}

// createBurst creates n pods at once in ns and returns each create's
// latency, then deletes them so etcd stays the same size across rounds.
func createBurst(b *testing.B, cs kubernetes.Interface, ns string, n, round int, image string, cpu *cpuUse) []time.Duration {
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
	before := cpu.sample()
	close(start)
	wg.Wait()
	cpu.add(before)
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

func fmtRatios(rs []float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = strconv.FormatFloat(r, 'f', 2, 64)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// cpuUse adds up the CPU time of etcd, the API server, this process and
// the webhook children (pids: etcd, API server, children or 0) over the
// bursts it measures.
type cpuUse struct {
	pids  []int
	spent cpuSample
}

// cpuSample is CPU time per process: etcd, API server, this process, the
// two webhook children.
type cpuSample [5]time.Duration

func (u *cpuUse) sample() cpuSample {
	var s cpuSample
	s[0], s[1] = procCPU(u.pids[0]), procCPU(u.pids[1])
	s[2] = cpuTime()
	for i, pid := range u.pids[2:] {
		if pid != 0 {
			s[3+i] = procCPU(pid)
		}
	}
	return s
}

func (u *cpuUse) add(before cpuSample) {
	after := u.sample()
	for i := range after {
		u.spent[i] += after[i] - before[i]
	}
}

// perCreate is the CPU per create over creates creates, per process.
func (u *cpuUse) perCreate(creates int) cpuSample {
	var s cpuSample
	for i, d := range u.spent {
		s[i] = (d / time.Duration(creates)).Round(10 * time.Microsecond)
	}
	return s
}

func (s cpuSample) total() time.Duration { return s[0] + s[1] + s[2] + s[3] + s[4] }

// countingListener counts the connections it accepts: each is a TLS
// handshake, which the API server's HTTP/1.1 webhook client pays for every
// concurrent call beyond its idle pool.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// serveWebhook serves h over TLS on loopback for the benchmark's lifetime
// and returns its address, the PEM of its self-signed certificate and the
// count of connections accepted so far.
func serveWebhook(b *testing.B, h http.Handler, http1Only bool) (string, []byte, *atomic.Int64) {
	b.Helper()
	addr, caPEM, conns, stop, err := listenWebhook(b.TempDir(), h, http1Only)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	return addr, caPEM, conns
}

// listenWebhook serves h over TLS on loopback with a self-signed
// certificate kept in dir, until stop is called.
func listenWebhook(dir string, h http.Handler, http1Only bool) (addr string, caPEM []byte, conns *atomic.Int64, stop func(), err error) {
	cert, err := server.LoadOrCreateSelfSigned(dir, server.DefaultHosts(""), time.Now())
	if err != nil {
		return "", nil, nil, nil, err
	}
	tokens, _ := server.ParseTokens("t", []byte("0123456789abcdef0123,ops\n"))
	srv, err := server.New(server.Options{TLS: &cert, Tokens: tokens, HTTP1Only: http1Only})
	if err != nil {
		return "", nil, nil, nil, err
	}
	srv.Handle("POST "+admission.Path, h)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, nil, err
	}
	conns = &atomic.Int64{}
	ln := countingListener{Listener: raw, n: conns}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return ln.Addr().String(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), conns, func() { cancel(); <-done }, nil
}

func quantile(d []time.Duration, q float64) time.Duration { return d[int(q*float64(len(d)-1))] }

func mean(d []time.Duration) time.Duration {
	var s time.Duration
	for _, x := range d {
		s += x
	}
	return s / time.Duration(len(d))
}

// timedHandler counts the reviews it serves, their total time and the
// most served at once.
type timedHandler struct {
	h                     http.Handler
	n, ns, inflight, peak atomic.Int64
}

func (t *timedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	cur := t.inflight.Add(1)
	for p := t.peak.Load(); cur > p && !t.peak.CompareAndSwap(p, cur); p = t.peak.Load() {
	}
	t.h.ServeHTTP(w, r)
	t.inflight.Add(-1)
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
