package admission

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/config"
)

func TestPinner(t *testing.T) {
	l := newLab(t)
	v, err := NewVerifier(l.Registry, []*attest.PublicKey{l.Key.Public()}, 16)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := v.Resolve(t.Context(), l.Good)
	if err != nil {
		t.Fatal(err)
	}
	_, good, _ := strings.Cut(digest, "@")
	pinned := l.Good + "@" + good
	p := &Pinner{Resolver: v, Registries: config.Registries{Trusted: []string{"127.0.0.1:*/shop/*"}}, ExcludedNamespaces: []string{"kube-system"}}

	withInit := pod(l.Good, pinned)
	withInit.Spec.InitContainers = []corev1.Container{{Name: "init", Image: l.Good}}
	withInit.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: l.Good}}}
	cron := &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: metav1.ObjectMeta{Name: "nightly"},
		Spec:       batchv1.CronJobSpec{Schedule: "@daily", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: pod(l.Good).Spec}}}},
	}
	tests := []struct {
		name string
		req  *admissionv1.AdmissionRequest
		want []patchOp
		warn string
	}{
		{name: "every container kind", req: podReview(t, "shop", withInit), want: []patchOp{
			{"replace", "/spec/initContainers/0/image", pinned},
			{"replace", "/spec/containers/0/image", pinned},
			{"replace", "/spec/ephemeralContainers/0/image", pinned},
		}},
		{name: "cronjob template", req: review(t, "shop", "CronJob", cron), want: []patchOp{{"replace", "/spec/jobTemplate/spec/template/spec/containers/0/image", pinned}}},
		{name: "already pinned", req: podReview(t, "shop", pod(pinned))},
		{name: "untrusted registry is not looked up", req: podReview(t, "shop", pod("docker.io/library/nginx:1.27"))},
		{name: "latest is not laundered", req: podReview(t, "shop", pod(l.Host+"/shop/web:latest"))},
		{name: "excluded namespace", req: podReview(t, "kube-system", pod(l.Good))},
		{name: "unknown tag is left to the validating webhook", req: podReview(t, "shop", pod(l.Host+"/shop/web:9.9")), warn: "not pinned to a digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := p.Review(t.Context(), tt.req)
			if !resp.Allowed {
				t.Fatalf("the pinner denied: %+v", resp.Result)
			}
			var got []patchOp
			if resp.Patch != nil {
				if resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
					t.Errorf("patch type %v", resp.PatchType)
				}
				if err := json.Unmarshal(resp.Patch, &got); err != nil {
					t.Fatal(err)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("patch = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("op %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
			if tt.warn != "" && (len(resp.Warnings) == 0 || !strings.Contains(resp.Warnings[0], tt.warn)) {
				t.Errorf("warnings %q lack %q", resp.Warnings, tt.warn)
			}
		})
	}
}

// fixedResolver resolves every reference to one digest: the fuzz test
// exercises decoding and patch building, not the registry.
type fixedResolver struct{}

func (fixedResolver) Resolve(_ context.Context, image string) (string, error) {
	return image + "@sha256:" + strings.Repeat("a", 64), nil
}

func FuzzPinner(f *testing.F) {
	f.Add(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"kind":"Pod"},"operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a","image":"ghcr.io/acme/x:1"}]}}}}`)
	f.Add(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE","object":{"apiVersion":"batch/v1","kind":"CronJob","spec":{"jobTemplate":{"spec":{"template":{"spec":{"initContainers":[{"name":"i","image":"ghcr.io/acme/y:2"}]}}}}}}}}`)
	f.Add(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE","object":{"kind":"Widget","apiVersion":"x/v1"}}}`)
	h := &Handler{Reviewer: &Pinner{Resolver: fixedResolver{}, Registries: config.Registries{Trusted: []string{"ghcr.io/*/*"}}}}
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, MutatePath, strings.NewReader(body)))
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		var out admissionv1.AdmissionReview
		if rec.Code == http.StatusOK {
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
				t.Fatalf("response %s: %v", rec.Body, err)
			}
			var ops []patchOp
			if out.Response.Patch != nil && json.Unmarshal(out.Response.Patch, &ops) != nil {
				t.Fatalf("patch is not a JSON Patch: %s", out.Response.Patch)
			}
		}
	})
}
