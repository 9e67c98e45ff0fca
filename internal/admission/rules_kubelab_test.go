package admission

import (
	"context"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/server"
)

const anonymousBindings = `apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: acme/no-anonymous-bindings}
spec:
  mode: enforce
  matchResources:
    apiGroups: [rbac.authorization.k8s.io]
    kinds: [ClusterRoleBinding, RoleBinding]
  validations:
    - expression: >-
        !object.?subjects.orValue([]).exists(s, s.name in ['system:anonymous', 'system:unauthenticated'])
      message: binds a role to system:anonymous or system:unauthenticated
`

// serveWebhook serves engine's validating webhook on loopback until the
// test ends and returns its URL and CA bundle.
func serveWebhook(t *testing.T, engine *Engine) (url string, ca []byte) {
	t.Helper()
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })
	return "https://" + ln.Addr().String(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
}

// TestPolicyKindsThroughRealAPIServer installs the webhook with the rules
// the enabled policies need, mapped with the API server's discovery, and
// checks that policies on kinds other than workloads judge live requests:
// the built-in NodePort/LoadBalancer policy on Services, a user policy on
// ClusterRoleBindings.
func TestPolicyKindsThroughRealAPIServer(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()

	file := filepath.Join(t.TempDir(), "bindings.yaml")
	if err := os.WriteFile(file, []byte(anonymousBindings), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Admission.ExcludeNamespaces = []string{"kube-system", "palisade"}
	cfg.Admission.Policies.Files = []string{file}
	cfg.Admission.Policies.Modes = map[string]string{"lp/no-nodeport-loadbalancer": "enforce"}
	w, err := Build(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	url, ca := serveWebhook(t, w.Engine)

	kinds, err := DiscoveryKinds(ctx, cs.Discovery())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kinds.Resources("*", "Widget"); err == nil || !strings.Contains(err.Error(), "kind Widget in any group is not served by the cluster") {
		t.Errorf("unknown kind: %v", err)
	}
	ps, err := LoadPolicies(ctx, cfg.Admission.Policies, cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	extra, _, err := PolicyRules(ps.Policies, kinds)
	if err != nil {
		t.Fatal(err)
	}
	offline, _, err := PolicyRules(ps.Policies, BuiltinKinds())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(offline, extra); diff != "" {
		t.Errorf("rules from discovery differ from the built-in table (-table +discovery):\n%s", diff)
	}
	if len(extra) != 2 || extra[0].Resources[0] != "services" || extra[1].Resources[0] != "clusterrolebindings" {
		t.Fatalf("rules from discovery %+v", extra)
	}
	vwc, err := WebhookConfiguration(InstallOptions{URL: url, CABundle: ca, ExcludeNamespaces: cfg.Admission.ExcludeNamespaces, ExtraRules: extra})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, vwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	service := func(name string, typ corev1.ServiceType, annotations map[string]string) error {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations},
			Spec:       corev1.ServiceSpec{Type: typ, Ports: []corev1.ServicePort{{Port: 80}}},
		}
		_, err := cs.CoreV1().Services("shop").Create(ctx, svc, metav1.CreateOptions{})
		return err
	}
	// The API server loads webhook configurations asynchronously.
	n := 0
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		n++
		err := service("probe-"+strconv.Itoa(n), corev1.ServiceTypeNodePort, nil)
		return err != nil && strings.Contains(err.Error(), "palisade denied"), nil
	})
	if err != nil {
		t.Fatal("the webhook never started judging Services")
	}
	binding := func(name, subject string) error {
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
			Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: subject}},
		}
		_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{})
		return err
	}

	tests := []struct {
		name     string
		create   func() error
		wantDeny string
	}{
		{"NodePort without the annotation", func() error { return service("web", corev1.ServiceTypeNodePort, nil) },
			`lp/no-nodeport-loadbalancer: is of type NodePort without the annotation palisade.dev/expose="true"`},
		{"LoadBalancer without the annotation", func() error { return service("lb", corev1.ServiceTypeLoadBalancer, nil) }, "is of type LoadBalancer"},
		{"NodePort with the annotation", func() error {
			return service("web", corev1.ServiceTypeNodePort, map[string]string{"palisade.dev/expose": "true"})
		}, ""},
		{"ClusterIP", func() error { return service("internal", corev1.ServiceTypeClusterIP, nil) }, ""},
		{"binding to system:anonymous", func() error { return binding("anonymous-view", "system:anonymous") },
			"acme/no-anonymous-bindings: binds a role to system:anonymous"},
		{"binding to a user", func() error { return binding("alice-view", "alice") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.create()
			switch {
			case tt.wantDeny == "" && err != nil:
				t.Fatalf("denied: %v", err)
			case tt.wantDeny != "" && (err == nil || !strings.Contains(err.Error(), tt.wantDeny)):
				t.Fatalf("err = %v, want a denial containing %q", err, tt.wantDeny)
			}
		})
	}
	if _, err := cs.CoreV1().Services("shop").Get(ctx, "web", metav1.GetOptions{}); err != nil {
		t.Errorf("the annotated NodePort Service was not stored: %v", err)
	}
}
