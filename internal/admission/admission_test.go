package admission

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/palisade-sec/palisade/internal/admission/admissiontest"
	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/config"
)

type lab struct{ *admissiontest.Lab }

func newLab(t *testing.T) *lab { return &lab{admissiontest.New(t)} }

func (l *lab) engine(t *testing.T, pssMode Mode, excs ...config.Exception) *Engine {
	t.Helper()
	v, err := NewVerifier(l.Registry, []*attest.PublicKey{l.Key.Public()}, 128)
	if err != nil {
		t.Fatal(err)
	}
	pss, err := NewPodSecurity("baseline", "latest")
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{
		Rules: []Rule{
			{Policy: &ImageTrust{Registries: config.Registries{Trusted: []string{"127.0.0.1:*/shop/*"}, FloatingTags: []string{"nightly"}}, Verifier: v}, Mode: Enforce},
			{Policy: pss, Mode: pssMode},
		},
		ExcludedNamespaces: []string{"kube-system", "palisade"},
		Exceptions:         excs,
	}
}

func podReview(t *testing.T, ns string, pod *corev1.Pod) *admissionv1.AdmissionRequest {
	t.Helper()
	return review(t, ns, "Pod", pod)
}

func review(t *testing.T, ns, kind string, obj runtime.Object) *admissionv1.AdmissionRequest {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return &admissionv1.AdmissionRequest{
		UID: types.UID("uid-1"), Kind: metav1.GroupVersionKind{Kind: kind}, Namespace: ns,
		Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw},
	}
}

func pod(images ...string) *corev1.Pod {
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"app": "web"}}}
	for i, img := range images {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Image: img})
	}
	return p
}

func privileged(p *corev1.Pod) *corev1.Pod {
	p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: new(true)}
	return p
}

func TestEngineDecisions(t *testing.T) {
	l := newLab(t)
	ephemeral := pod(l.Good)
	ephemeral.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: l.Bare}}}
	deployment := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: privileged(pod(l.Good)).Spec}},
	}
	// Agent Sandbox objects reach the webhook when its rules name them
	// (webhook.extraRules): their pod template is judged like a
	// Deployment's. A custom kind without a pod template is let through.
	sandbox := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "agents.x-k8s.io/v1beta1", "kind": "Sandbox", "metadata": map[string]any{"name": "agent"},
		"spec": map[string]any{"podTemplate": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": "agent", "image": l.Good, "securityContext": map[string]any{"privileged": true}}}}}},
	}}
	claim := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "extensions.agents.x-k8s.io/v1beta1", "kind": "SandboxClaim", "metadata": map[string]any{"name": "c"},
		"spec": map[string]any{"warmPoolRef": map[string]any{"name": "pool"}},
	}}
	tests := []struct {
		name      string
		req       *admissionv1.AdmissionRequest
		pssMode   Mode
		allowed   bool
		wantText  string
		wantWarn  string
		excepting []config.Exception
	}{
		{name: "attested image", req: podReview(t, "shop", pod(l.Good)), allowed: true},
		{name: "no attestation", req: podReview(t, "shop", pod(l.Bare)), wantText: "shop/bare:0.1): it has no scan attestation"},
		{name: "failed scan", req: podReview(t, "shop", pod(l.Bad)), wantText: "failed the baseline"},
		{name: "untrusted registry", req: podReview(t, "shop", pod("docker.io/library/nginx:1.27")), wantText: "registry index.docker.io is not trusted"},
		{name: "latest tag", req: podReview(t, "shop", pod(l.Host+"/shop/web:latest")), wantText: "mutable latest tag"},
		{name: "no tag", req: podReview(t, "shop", pod(l.Host+"/shop/web")), wantText: "mutable latest tag"},
		{name: "floating tag", req: podReview(t, "shop", pod(l.Host+"/shop/web:nightly")), wantText: "nightly, a floating tag"},
		{name: "ephemeral container is checked", req: podReview(t, "shop", ephemeral), wantText: "container debug"},
		{name: "privileged pod", req: podReview(t, "shop", privileged(pod(l.Good))), wantText: `PodSecurity baseline: privileged`},
		{name: "privileged deployment template", req: review(t, "shop", "Deployment", deployment), wantText: "Deployment shop/web"},
		{name: "privileged sandbox template", req: review(t, "shop", "Sandbox", sandbox), wantText: "Sandbox shop/agent"},
		{name: "sandbox claim holds no pod spec", req: review(t, "shop", "SandboxClaim", claim), allowed: true},
		{name: "warn mode admits with a warning", req: podReview(t, "shop", privileged(pod(l.Good))), pssMode: Warn, allowed: true, wantWarn: "admission/pod-security-baseline"},
		{name: "excluded namespace", req: podReview(t, "kube-system", privileged(pod("docker.io/evil:latest"))), allowed: true},
		{
			name: "exception applies", req: podReview(t, "shop", privileged(pod(l.Good))), allowed: true,
			excepting: []config.Exception{{ID: "x1", Owner: "sre", Reason: "node agent", Expires: time.Now().Add(time.Hour), Match: config.Match{Rules: []string{"admission/pod-security-*"}, Namespace: "shop"}}},
		},
		{
			name: "expired exception does not apply", req: podReview(t, "shop", privileged(pod(l.Good))), wantText: "privileged",
			excepting: []config.Exception{{ID: "x2", Owner: "sre", Reason: "old", Expires: time.Now().Add(-time.Hour), Match: config.Match{Rules: []string{"admission/pod-security-*"}, Namespace: "shop"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode := tt.pssMode
			if mode == "" {
				mode = Enforce
			}
			resp := l.engine(t, mode, tt.excepting...).Review(t.Context(), tt.req)
			if resp.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, tt.allowed, resp.Result)
			}
			if resp.UID != tt.req.UID {
				t.Errorf("UID %q not echoed", resp.UID)
			}
			if tt.wantText != "" && (resp.Result == nil || !strings.Contains(resp.Result.Message, tt.wantText)) {
				t.Errorf("message lacks %q: %+v", tt.wantText, resp.Result)
			}
			if tt.wantWarn != "" {
				if len(resp.Warnings) == 0 || !strings.Contains(resp.Warnings[0], tt.wantWarn) {
					t.Errorf("warnings %q lack %q", resp.Warnings, tt.wantWarn)
				}
			}
			for _, w := range resp.Warnings {
				if len(w) >= maxWarning {
					t.Errorf("warning of %d bytes, want under %d: %q", len(w), maxWarning, w)
				}
			}
		})
	}
}

// TestRolloutCoalesces checks that many concurrent reviews of one new image
// cost one verification, and that later reviews are served from the cache.
func TestRolloutCoalesces(t *testing.T) {
	l := newLab(t)
	e := l.engine(t, Enforce)
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if resp := e.Review(t.Context(), podReview(t, "shop", pod(l.Good))); !resp.Allowed {
				t.Errorf("denied: %+v", resp.Result)
			}
		})
	}
	wg.Wait()
	first := l.ManifestRequests.Load()
	// Resolve (HEAD), referrer lookup, and the artifact manifest: a handful,
	// not 100 times that.
	if first == 0 || first > 8 {
		t.Errorf("100 concurrent reviews made %d manifest requests, want a handful", first)
	}
	e.Review(t.Context(), podReview(t, "shop", pod(l.Good)))
	if n := l.ManifestRequests.Load(); n != first {
		t.Errorf("a cached verdict still made %d registry requests", n-first)
	}
}

func TestRegistryDownFailureModes(t *testing.T) {
	l := newLab(t)
	image := l.Good
	l.Server.Close()
	for _, failOpen := range []bool{false, true} {
		e := l.engine(t, Enforce)
		e.Rules[0].FailOpen = failOpen
		resp := e.Review(t.Context(), podReview(t, "shop", pod(image)))
		if resp.Allowed != failOpen {
			t.Errorf("fail-open=%v: allowed=%v (%+v, warnings %q)", failOpen, resp.Allowed, resp.Result, resp.Warnings)
		}
		if !failOpen && !strings.Contains(resp.Result.Message, "fails closed") {
			t.Errorf("fail-closed denial does not say so: %s", resp.Result.Message)
		}
	}
}

func TestHandler(t *testing.T) {
	l := newLab(t)
	h := &Handler{Engine: l.engine(t, Enforce)}
	good := admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Request: podReview(t, "shop", pod(l.Good))}
	body, _ := json.Marshal(good)
	tests := []struct {
		name, body string
		code       int
	}{
		{"valid", string(body), http.StatusOK},
		{"truncated", string(body[:len(body)/2]), http.StatusBadRequest},
		{"no request", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, http.StatusBadRequest},
		{"v1beta1", `{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}}`, http.StatusBadRequest},
		{"oversized", `{"x":"` + strings.Repeat("a", maxReviewBytes) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, Path, strings.NewReader(tt.body)))
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.code, rec.Body)
			}
			if tt.code == http.StatusOK {
				var out admissionv1.AdmissionReview
				if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil || !out.Response.Allowed || out.APIVersion != "admission.k8s.io/v1" {
					t.Errorf("response = %s (%v)", rec.Body, err)
				}
			}
		})
	}
}

func FuzzHandler(f *testing.F) {
	f.Add(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"kind":"Pod"},"operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a","image":"x"}]}}}}`)
	f.Add(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE","object":{"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{"spec":{"containers":null}}}}}}`)
	f.Add(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE","object":{"kind":"Widget","apiVersion":"x/v1"}}}`)
	pss, _ := NewPodSecurity("restricted", "latest")
	h := &Handler{Engine: &Engine{Rules: []Rule{
		{Policy: &ImageTrust{Registries: config.Registries{Trusted: []string{"ghcr.io/*"}}}, Mode: Enforce},
		{Policy: pss, Mode: Warn},
	}}}
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body)))
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
