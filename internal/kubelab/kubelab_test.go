package kubelab_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

func TestClusterRoundTrip(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{AuditLog: true})
	t.Logf("kubelab startup to ready: %v", c.StartupTime)
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)

	if v, err := c.Version(); err != nil || v != kubelab.KubernetesVersion {
		t.Fatalf("server version = %q, %v; want %s", v, err, kubelab.KubernetesVersion)
	}

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "baseline"}}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-reader", Namespace: "team-a"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}},
	}
	if _, err := cs.RbacV1().Roles("team-a").Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create role: %v", err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "alice-reads-pods", Namespace: "team-a"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "pod-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "alice"}},
	}
	if _, err := cs.RbacV1().RoleBindings("team-a").Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create rolebinding: %v", err)
	}
	replicas := int32(2)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team-a"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "web", Image: "registry.example/web@sha256:" + strings.Repeat("a", 64),
					SecurityContext: &corev1.SecurityContext{Privileged: new(true)},
				}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("team-a").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}

	got, err := cs.AppsV1().Deployments("team-a").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("read deployment back: %v", err)
	}
	if sc := got.Spec.Template.Spec.Containers[0].SecurityContext; sc == nil || sc.Privileged == nil || !*sc.Privileged {
		t.Errorf("privileged flag lost on round trip: %+v", sc)
	}
	if _, err := cs.RbacV1().RoleBindings("team-a").Get(ctx, "alice-reads-pods", metav1.GetOptions{}); err != nil {
		t.Errorf("read rolebinding back: %v", err)
	}

	// RBAC is enforced: alice (client certificate) may list pods in team-a
	// but not secrets. The authorizer may lag a new binding by about a second.
	aliceCfg, err := c.ClientCertConfig("alice", "developers")
	if err != nil {
		t.Fatal(err)
	}
	alice := kubernetes.NewForConfigOrDie(aliceCfg)
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := alice.CoreV1().Pods("team-a").List(ctx, metav1.ListOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Errorf("alice cannot list pods in team-a despite her RoleBinding")
	}
	if _, err := alice.CoreV1().Secrets("team-a").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("alice listing secrets: err = %v, want Forbidden", err)
	}
	// Anonymous access is off by default.
	anon := kubernetes.NewForConfigOrDie(c.AnonymousConfig())
	if _, err := anon.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("anonymous list: err = %v, want Unauthorized", err)
	}

	// The built kubectl works with the lab kubeconfig.
	bin, args := c.Kubectl("get", "ns", "-o", "name")
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get ns: %v\n%s", err, out)
	}
	for _, want := range []string{"namespace/team-a", "namespace/default", "namespace/kube-system"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("kubectl get ns output lacks %s:\n%s", want, out)
		}
	}

	// The audit log saw the deployment being created.
	audit, err := os.ReadFile(c.AuditLogPath)
	if err != nil {
		t.Fatalf("read audit log: %v", err)
	}
	if !strings.Contains(string(audit), `"resource":"deployments","namespace":"team-a","name":"web"`) {
		t.Errorf("audit log has no event for the deployment create")
	}
}

func TestStopLeavesNothingBehind(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	dir, pids := c.Dir, c.PIDs()
	if len(pids) != 2 {
		t.Fatalf("PIDs() = %v, want etcd and kube-apiserver", pids)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("lab directory %s still exists after Stop (err=%v)", dir, err)
	}
	for _, pid := range pids {
		// Signal 0 probes for existence; the processes were reaped by Stop.
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("process %d still running after Stop", pid)
		}
	}
}

func TestStartWithoutBinaries(t *testing.T) {
	_, err := kubelab.Start(t.Context(), kubelab.Options{BinDir: t.TempDir()})
	if !errors.Is(err, kubelab.ErrBinariesMissing) {
		t.Fatalf("Start with empty bin dir: err = %v, want ErrBinariesMissing", err)
	}
}
