package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/palisade-sec/palisade/internal/admission"
	"github.com/palisade-sec/palisade/internal/admission/admissiontest"
	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/policy"
)

// threeContainerReview is a restricted-compliant pod of three containers,
// all from the attested image, as the API server would send it.
func threeContainerReview(b *testing.B, image string) []byte {
	b.Helper()
	sc := &corev1.SecurityContext{
		AllowPrivilegeEscalation: new(false),
		RunAsNonRoot:             new(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Labels: map[string]string{"app": "web"}}}
	for i := range 3 {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Image: image, SecurityContext: sc})
	}
	raw, _ := json.Marshal(pod)
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: "u", Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, Namespace: "shop",
			Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw}},
	}
	body, _ := json.Marshal(review)
	return body
}

// BenchmarkAdmissionReview measures the in-process handler with every
// built-in policy on warm caches (image trust, PSS restricted and the
// least-privilege CEL library), with serve's decision log and metrics,
// against the floor of only JSON-decoding the same review. It reports
// p50/p99 latency, reviews/s and the ratio handler/decode.
func BenchmarkAdmissionReview(b *testing.B) {
	l := admissiontest.New(b)
	v, err := admission.NewVerifier(l.Registry, []*attest.PublicKey{l.Key.Public()}, 1024)
	if err != nil {
		b.Fatal(err)
	}
	pss, err := admission.NewPodSecurity("restricted", "latest")
	if err != nil {
		b.Fatal(err)
	}
	lib, err := policy.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	rules := []admission.Rule{
		{Policy: &admission.ImageTrust{Registries: config.Registries{Trusted: []string{"127.0.0.1:*/shop/*"}}, Verifier: v}, Mode: admission.Enforce},
		{Policy: pss, Mode: admission.Enforce},
	}
	// The least-privilege library runs in audit mode, as serve runs it by
	// default: every policy is evaluated, and those the pod breaks are
	// recorded, not denied.
	for _, r := range admission.CELRules(lib, nil) {
		r.Mode = admission.Audit
		rules = append(rules, r)
	}
	// Serve logs each decision as JSON at info level to stderr (a file
	// here, so the write is a real one) and records Prometheus metrics.
	logFile, err := os.Create(filepath.Join(b.TempDir(), "serve.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	logger := slog.New(slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo})).With("component", "admission")
	metrics, err := admission.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	h := &admission.Handler{Engine: &admission.Engine{Rules: rules, Logger: logger, Metrics: metrics}, Logger: logger}
	body := threeContainerReview(b, l.Good)
	review := func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, admission.Path, bytes.NewReader(body)))
		if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"allowed":true`)) {
			b.Fatalf("review failed: %d %s", rec.Code, rec.Body)
		}
	}
	review() // warm the verdict cache

	// Each iteration is a batch of reviews, so that percentiles mean
	// something even with make bench's -benchtime 3x.
	const batch = 2000
	var lat []time.Duration
	var total, decode time.Duration
	for b.Loop() {
		for range batch {
			t0 := time.Now()
			review()
			d := time.Since(t0)
			lat = append(lat, d)
			total += d
			t1 := time.Now()
			var ar admissionv1.AdmissionReview
			if err := json.Unmarshal(body, &ar); err != nil {
				b.Fatal(err)
			}
			decode += time.Since(t1)
		}
	}
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	b.ReportMetric(float64(p(0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(p(0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(len(lat))/total.Seconds(), "reviews/s")
	b.ReportMetric(float64(total)/float64(decode), "x-decode")
	b.Logf("admission review: p50 %v p99 %v, %.0f reviews/s, %.1f× the JSON decode floor (%d reviews)",
		p(0.50), p(0.99), float64(len(lat))/total.Seconds(), float64(total)/float64(decode), len(lat))
}

// BenchmarkAttestationColdVerify measures verifying an attestation from
// the local registry with cold caches: resolve, list referrers, fetch and
// check the envelope.
func BenchmarkAttestationColdVerify(b *testing.B) {
	l := admissiontest.New(b)
	var lat []time.Duration
	for b.Loop() {
		for range 50 {
			v, err := admission.NewVerifier(l.Registry, []*attest.PublicKey{l.Key.Public()}, 16)
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			verdict, err := v.Verify(b.Context(), l.Good)
			lat = append(lat, time.Since(t0))
			if err != nil || !verdict.Trusted {
				b.Fatalf("verify: %+v %v", verdict, err)
			}
		}
	}
	slices.Sort(lat)
	p95 := lat[int(0.95*float64(len(lat)-1))]
	b.ReportMetric(float64(p95.Microseconds()), "p95-µs")
	b.Logf("cold attestation verification: p95 %v over %d", p95, len(lat))
}
