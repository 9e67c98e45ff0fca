package audit_test

import (
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/audit"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// TestAttackOnRealAPIServer runs a scripted attack against a real
// kube-apiserver and replays the audit log it wrote: a cluster-admin
// binding for system:anonymous (the misconfiguration), anonymous discovery,
// an anonymous ClusterRoleBinding making a service account cluster-admin,
// then, with that account's token, a privileged hostPath pod, a
// cluster-wide secret list and an exec attempt.
func TestAttackOnRealAPIServer(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{AuditLog: true, AnonymousAuth: true})
	ctx := t.Context()
	admin := kubernetes.NewForConfigOrDie(c.Config)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}}, metav1.CreateOptions{})
	must("create namespace", err)
	_, err = admin.CoreV1().ServiceAccounts("apps").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "web"}}, metav1.CreateOptions{})
	must("create service account", err)
	binding := func(name string, subject rbacv1.Subject) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{subject}}
	}
	_, err = admin.RbacV1().ClusterRoleBindings().Create(ctx, binding("oops-anonymous", rbacv1.Subject{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "system:anonymous"}), metav1.CreateOptions{})
	must("bind anonymous", err)

	anon := kubernetes.NewForConfigOrDie(c.AnonymousConfig())
	deadline := time.Now().Add(30 * time.Second)
	for { // RBAC changes reach the authorizer's cache asynchronously
		if _, err = anon.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	must("anonymous list namespaces", err)
	_, err = anon.RbacV1().ClusterRoleBindings().Create(ctx, binding("web-admin", rbacv1.Subject{Kind: "ServiceAccount", Namespace: "apps", Name: "web"}), metav1.CreateOptions{})
	must("anonymous binds the service account", err)

	tok, err := admin.CoreV1().ServiceAccounts("apps").CreateToken(ctx, "web", &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{}}, metav1.CreateOptions{})
	must("mint token", err)
	sa := kubernetes.NewForConfigOrDie(c.TokenConfig(tok.Status.Token))
	priv := true
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "miner"}, Spec: corev1.PodSpec{
		HostPID: true,
		Volumes: []corev1.Volume{{Name: "root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
		Containers: []corev1.Container{{Name: "c", Image: "busybox", SecurityContext: &corev1.SecurityContext{Privileged: &priv},
			VolumeMounts: []corev1.VolumeMount{{Name: "root", MountPath: "/host"}}}}}}
	deadline = time.Now().Add(30 * time.Second)
	for {
		if _, err = sa.CoreV1().Pods("apps").Create(ctx, pod, metav1.CreateOptions{}); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	must("privileged pod", err)
	_, err = sa.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
	must("list secrets", err)
	// No kubelet runs the pod, so exec fails after authorization; the
	// attempt is what the audit log records.
	_ = sa.CoreV1().RESTClient().Post().Namespace("apps").Resource("pods").Name("miner").SubResource("exec").
		Param("command", "sh").Param("stdout", "true").Do(ctx).Error()

	want := []string{
		"admin-binding-then-privileged-workload", "admin-binding-then-secrets", "anonymous-request-allowed",
		"anonymous-to-binding-to-workload", "binding-to-unauthenticated", "cluster-admin-binding", "hostpath-pod",
		"hostpid-pod", "pod-exec", "privileged-pod", "secret-list-cluster-wide", "sensitive-hostpath-pod",
		"serviceaccount-token-request",
	}
	var got []string
	deadline = time.Now().Add(20 * time.Second)
	for { // the log backend writes asynchronously; wait for the last event
		got = replayRules(t, c.AuditLogPath)
		if !hasAll(got, want) && time.Now().Before(deadline) {
			time.Sleep(500 * time.Millisecond)
			continue
		}
		break
	}
	t.Logf("alerts from the real audit log: %v", got)
	if !hasAll(got, want) {
		t.Errorf("alerts from the real audit log: got %v, want at least %v", got, want)
	}
}

func hasAll(got, want []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

func replayRules(t *testing.T, path string) []string {
	t.Helper()
	env, err := audit.NewCELEnv()
	if err != nil {
		t.Fatal(err)
	}
	set, err := audit.Builtin(env)
	if err != nil {
		t.Fatal(err)
	}
	en, err := audit.NewEngine(set, audit.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	st, err := audit.Replay(t.Context(), en, f, audit.Source{Name: "kubelab"}, time.Now, func(a *audit.Alert) error {
		if len(a.Evidence) == 0 || a.Evidence[0] == "" {
			t.Errorf("alert %s without evidence auditIDs", a.RuleID)
		}
		if a.Actor == "system:apiserver" {
			t.Errorf("alert %s on the API server's own bootstrap (%s %s)", a.RuleID, a.Verb, a.Target.Name)
		}
		seen[a.RuleID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.ErrorCount > 0 {
		t.Errorf("real audit log had %d undecodable records: %v", st.ErrorCount, st.Errors)
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
