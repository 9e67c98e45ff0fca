package admission

import (
	"context"
	"encoding/pem"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	psaapi "k8s.io/pod-security-admission/api"

	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// TestPinningRecordsAndNamespaceLevels runs the mutating and validating
// webhooks behind a real kube-apiserver: tag-only images are stored pinned,
// a failing uploaded scan record denies, and a namespace's pod-security
// label raises its level.
func TestPinningRecordsAndNamespaceLevels(t *testing.T) {
	l := newLab(t)
	ctx := t.Context()
	c := kubelabtest.Start(t, kubelab.Options{})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	for _, ns := range []*corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "strict", Labels: map[string]string{psaapi.EnforceLevelLabel: "restricted"}}},
	} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	lister, err := StartNamespaceLister(ctx, cs, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}

	// A failing scan of the unattested image, uploaded by CI.
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bare, err := l.Registry.Resolve(ctx, l.Bare)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutScan(ctx, store.ScanRecord{ImageDigest: bare.DigestStr(), ImageRef: l.Bare, ScannedAt: time.Now().UTC(), Summary: store.SeverityCounts{Critical: 3}}); err != nil {
		t.Fatal(err)
	}

	v, err := NewVerifier(l.Registry, []*attest.PublicKey{l.Key.Public()}, 64)
	if err != nil {
		t.Fatal(err)
	}
	v.Records = st
	pss, err := NewPodSecurity("baseline", "latest")
	if err != nil {
		t.Fatal(err)
	}
	pss.Namespaces = &NamespaceLevels{Lister: lister}
	registries := config.Registries{Trusted: []string{"127.0.0.1:*/shop/*"}}
	excluded := []string{"kube-system", "palisade"}
	engine := &Engine{Rules: []Rule{{Policy: &ImageTrust{Registries: registries, Verifier: v}, Mode: Enforce}, {Policy: pss, Mode: Enforce}}, ExcludedNamespaces: excluded}
	pinner := &Pinner{Resolver: v, Registries: registries, ExcludedNamespaces: excluded}

	cert, err := server.LoadOrCreateSelfSigned(t.TempDir(), server.DefaultHosts(""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tokens, _ := server.ParseTokens("t", []byte("0123456789abcdef0123,ops\n"))
	srv, err := server.New(server.Options{TLS: &cert, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	srv.Handle("POST "+Path, &Handler{Engine: engine})
	srv.Handle("POST "+MutatePath, &Handler{Reviewer: pinner})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(srvCtx, ln) }()
	t.Cleanup(func() { cancel(); <-served })

	o := InstallOptions{URL: "https://" + ln.Addr().String(), CABundle: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), ExcludeNamespaces: excluded}
	vwc, err := WebhookConfiguration(o)
	if err != nil {
		t.Fatal(err)
	}
	mwc, err := MutatingWebhookConfiguration(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, mwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, vwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	createPod := func(ns, name string, p *corev1.Pod) (*corev1.Pod, error) {
		p.Name = name
		return cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
	}
	// Webhook configurations load asynchronously: wait until a pod's image
	// comes back pinned, which proves both webhooks are called.
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		got, err := createPod("shop", "probe-"+time.Now().Format("150405.000000"), pod(l.Good))
		return err == nil && strings.Contains(got.Spec.Containers[0].Image, "@sha256:"), nil
	})
	if err != nil {
		t.Fatal("the mutating webhook never pinned a pod's image")
	}

	t.Run("tag-only deployment is stored with the digest", func(t *testing.T) {
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: pod(l.Good).Spec},
			},
		}
		if _, err := cs.AppsV1().Deployments("shop").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		stored, err := cs.AppsV1().Deployments("shop").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := v.Resolve(ctx, l.Good)
		if err != nil {
			t.Fatal(err)
		}
		_, digest, _ := strings.Cut(want, "@")
		if got := stored.Spec.Template.Spec.Containers[0].Image; got != l.Good+"@"+digest {
			t.Errorf("stored image %q, want %q", got, l.Good+"@"+digest)
		}
	})

	tests := []struct {
		name, ns string
		pod      *corev1.Pod
		wantDeny string
	}{
		{"failing attestation", "shop", pod(l.Bad), "(attestation) failed the baseline"},
		{"failing uploaded scan record", "shop", pod(l.Bare), "(uploaded scan record) failed the baseline: 3 critical open"},
		{"baseline namespace admits a root pod", "shop", pod(l.Good), ""},
		// The API server's own PodSecurity admission reads the same label
		// and runs before webhooks, so its words are the ones that come back.
		{"restricted namespace label denies it", "strict", pod(l.Good), `violates PodSecurity "restricted:latest"`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := createPod(tt.ns, "p"+string(rune('a'+i)), tt.pod)
			switch {
			case tt.wantDeny == "" && err != nil:
				t.Fatalf("denied: %v", err)
			case tt.wantDeny != "" && (err == nil || !strings.Contains(err.Error(), tt.wantDeny)):
				t.Fatalf("err = %v, want a denial containing %q", err, tt.wantDeny)
			}
		})
	}
}
