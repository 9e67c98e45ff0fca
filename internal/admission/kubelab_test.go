package admission

import (
	"context"
	"encoding/pem"
	"net"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/server"
)

// TestThroughRealAPIServer registers the webhook in a real kube-apiserver
// and creates pods through it.
func TestThroughRealAPIServer(t *testing.T) {
	l := newLab(t)
	tokens, _ := server.ParseTokens("t", []byte("0123456789abcdef0123,ops\n"))
	cert, err := server.LoadOrCreateSelfSigned(t.TempDir(), server.DefaultHosts(""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{TLS: &cert, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	srv.Handle("POST "+Path, &Handler{Engine: l.engine(t, Enforce)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	stopWebhook := func() { cancel(); <-served }
	stopped := false
	defer func() {
		if !stopped {
			stopWebhook()
		}
	}()

	vwc, err := WebhookConfiguration(InstallOptions{
		URL:               "https://" + ln.Addr().String(),
		CABundle:          pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}),
		ExcludeNamespaces: []string{"kube-system", "palisade"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := kubelabtest.Start(t, kubelab.Options{ValidatingWebhooks: []admissionregistrationv1.ValidatingWebhookConfiguration{*vwc}})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	tctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(tctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	create := func(p *corev1.Pod, name string) error {
		p.Name = name
		_, err := cs.CoreV1().Pods("shop").Create(tctx, p, metav1.CreateOptions{})
		return err
	}
	// The API server loads webhook configurations asynchronously: wait
	// until an unattested pod is denied by our webhook.
	err = wait.PollUntilContextTimeout(tctx, 200*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		err := create(pod(l.Bare), "probe-"+time.Now().Format("150405.000000"))
		return err != nil && strings.Contains(err.Error(), "palisade denied"), nil
	})
	if err != nil {
		t.Fatal("the webhook never started denying unattested pods")
	}

	tests := []struct {
		name     string
		pod      *corev1.Pod
		wantDeny string
	}{
		{"attested", pod(l.Good), ""},
		{"unattested", pod(l.Bare), "shop/bare:0.1): it has no scan attestation signed by a trusted key"},
		{"failing scan", pod(l.Bad), "failed the baseline"},
		{"untrusted registry", pod("quay.io/evil/miner:1"), "registry quay.io is not trusted"},
		{"privileged", privileged(pod(l.Good)), "privileged"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := create(tt.pod, "p"+string(rune('a'+i)))
			switch {
			case tt.wantDeny == "" && err != nil:
				t.Fatalf("denied: %v", err)
			case tt.wantDeny != "" && (err == nil || !strings.Contains(err.Error(), tt.wantDeny)):
				t.Fatalf("err = %v, want denial containing %q", err, tt.wantDeny)
			}
		})
	}

	t.Run("privileged deployment", func(t *testing.T) {
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: privileged(pod(l.Good)).Spec},
			},
		}
		_, err := cs.AppsV1().Deployments("shop").Create(tctx, d, metav1.CreateOptions{})
		if err == nil || !strings.Contains(err.Error(), "palisade denied Deployment shop/web") || !strings.Contains(err.Error(), "privileged") {
			t.Fatalf("err = %v, want a pod security denial of the Deployment", err)
		}
	})

	// kubectl debug adds ephemeral containers through the
	// pods/ephemeralcontainers subresource: an UPDATE the webhook judges.
	t.Run("ephemeral debug container", func(t *testing.T) {
		debug := func(name, image string) error {
			p, err := cs.CoreV1().Pods("shop").Get(tctx, "pa", metav1.GetOptions{})
			if err != nil {
				return err
			}
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{
				EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: name, Image: image, TerminationMessagePolicy: corev1.TerminationMessageReadFile},
			})
			_, err = cs.CoreV1().Pods("shop").UpdateEphemeralContainers(tctx, "pa", p, metav1.UpdateOptions{})
			return err
		}
		if err := debug("debug", l.Bare); err == nil || !strings.Contains(err.Error(), "container debug") || !strings.Contains(err.Error(), "no scan attestation") {
			t.Errorf("unattested debug image: err = %v, want an image trust denial naming container debug", err)
		}
		if err := debug("debug2", l.Good); err != nil {
			t.Errorf("attested debug image: %v", err)
		}
	})

	// Webhook down: failurePolicy Fail denies everything it covers …
	stopWebhook()
	stopped = true
	if err := create(pod(l.Good), "while-down"); err == nil || !strings.Contains(err.Error(), "failed calling webhook") {
		t.Errorf("fail-closed with the webhook down: err = %v", err)
	}
	// … and Ignore admits.
	live, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(tctx, "palisade", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ignore := admissionregistrationv1.Ignore
	live.Webhooks[0].FailurePolicy = &ignore
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Update(tctx, live, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(tctx, 200*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		return create(pod(l.Good), "open-"+time.Now().Format("150405.000000")) == nil, nil
	})
	if err != nil {
		t.Errorf("fail-open with the webhook down never admitted a pod")
	}
}
