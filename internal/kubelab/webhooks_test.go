package kubelab_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// receiver is a TLS endpoint the lab API server calls: it records audit
// batches and answers admission reviews, denying pods labelled deny=true.
type receiver struct {
	srv *httptest.Server

	mu          sync.Mutex
	auditBodies []string
	auditAuth   []string
	reviews     int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /audit", func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.auditBodies = append(r.auditBodies, string(b))
		r.auditAuth = append(r.auditAuth, req.Header.Get("Authorization"))
		r.mu.Unlock()
	})
	mux.HandleFunc("POST /validate", func(w http.ResponseWriter, req *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(req.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.reviews++
		r.mu.Unlock()
		var pod corev1.Pod
		_ = json.Unmarshal(review.Request.Object.Raw, &pod)
		resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: pod.Labels["deny"] != "true"}
		if !resp.Allowed {
			resp.Result = &metav1.Status{Message: "denied by the kubelab test webhook"}
		}
		review.Response, review.Request = resp, nil
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(review)
	})
	r.srv = httptest.NewTLSServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw})
}

func TestAuditAndAdmissionWebhooks(t *testing.T) {
	r := newReceiver(t)
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(3)
	url := r.srv.URL + "/validate"
	c := kubelabtest.Start(t, kubelab.Options{
		AuditWebhook: &kubelab.Endpoint{URL: r.srv.URL + "/audit", CAData: r.caPEM(), Token: "audit-token-0123456789", BatchMaxWait: 200 * time.Millisecond},
		ValidatingWebhooks: []admissionregistrationv1.ValidatingWebhookConfiguration{{
			ObjectMeta: metav1.ObjectMeta{Name: "kubelab-test"},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{{
				Name:                    "pods.kubelab.test",
				ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: r.caPEM()},
				Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}}},
				FailurePolicy:           &fail,
				SideEffects:             &none,
				TimeoutSeconds:          &timeout,
				AdmissionReviewVersions: []string{"v1"},
			}},
		}},
	})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	pod := func(name string, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example/app:1"}}},
		}
	}
	// The webhook configuration is read by the API server asynchronously;
	// retry until the webhook answers for the first time.
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Pods("default").Create(ctx, pod("probe-"+time.Now().Format("150405.000000"), map[string]string{"deny": "true"}), metav1.CreateOptions{})
		return err != nil && strings.Contains(err.Error(), "denied by the kubelab test webhook"), nil
	})
	if err != nil {
		t.Fatalf("the admission webhook never denied a labelled pod")
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod("allowed", nil), metav1.CreateOptions{}); err != nil {
		t.Fatalf("unlabelled pod refused: %v", err)
	}

	// Audit batches arrive at the webhook with the configured token.
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, b := range r.auditBodies {
			if strings.Contains(b, `"kind":"EventList"`) && strings.Contains(b, `"name":"allowed"`) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no audit batch with the pod create reached the webhook (%d batches)", len(r.auditBodies))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.auditAuth[0] != "Bearer audit-token-0123456789" {
		t.Errorf("audit webhook Authorization = %q", r.auditAuth[0])
	}
}
