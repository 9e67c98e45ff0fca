package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// TestPostureScanLive scans a real kube-apiserver loaded with workloads and
// RBAC: once as admin (every kind, in pages of 2), once as a user whom RBAC
// denies the RBAC kinds (the report is partial and says so).
func TestPostureScanLive(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}))
	priv := true
	labels := map[string]string{"app": "web"}
	must(cs.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "nginx:1.27", SecurityContext: &corev1.SecurityContext{Privileged: &priv},
				}}},
			},
		},
	}, metav1.CreateOptions{}))
	for i := range 5 {
		must(cs.CoreV1().Pods("shop").Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("job-%d", i)},
			Spec:       corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "c", Image: "busybox:1.36"}}},
		}, metav1.CreateOptions{}))
	}
	must(cs.RbacV1().Roles("shop").Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "secret-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}}},
	}, metav1.CreateOptions{}))
	must(cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "ci-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "ci", Namespace: "shop"}},
	}, metav1.CreateOptions{}))

	t.Run("admin", func(t *testing.T) {
		code, out, errOut := run(t, "posture", "scan", "-o", "json", "--page-size", "2", "--kubeconfig", c.Kubeconfig)
		if code != ExitViolation {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		rep := decodeReport(t, out)
		if rep.Partial {
			t.Errorf("admin scan is partial: %v", rep.Errors)
		}
		got := ruleSet(rep)
		for _, want := range []string{
			"posture/privileged shop/Deployment/web",
			"posture/rbac-secrets-read shop/Role/secret-reader",
			"posture/rbac-cluster-admin-binding /ClusterRoleBinding/ci-admin",
			"posture/host-namespaces shop/Pod/job-4", // the last page
		} {
			if !got[want] {
				t.Errorf("no finding %q", want)
			}
		}
		for k := range got {
			if strings.Contains(k, "ClusterRole/admin") || strings.Contains(k, "ClusterRole/edit") || strings.Contains(k, "system:") {
				t.Errorf("finding on a Kubernetes bootstrap object: %s", k)
			}
		}
	})

	t.Run("rbac hides kinds", func(t *testing.T) {
		must(cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "workload-viewer"},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"", "apps", "batch", "networking.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"list"}},
			},
		}, metav1.CreateOptions{}))
		must(cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "workload-viewer"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "workload-viewer"},
			Subjects:   []rbacv1.Subject{{Kind: "User", Name: "viewer", APIGroup: "rbac.authorization.k8s.io"}},
		}, metav1.CreateOptions{}))
		cfg, err := c.ClientCertConfig("viewer")
		if err != nil {
			t.Fatal(err)
		}
		kc := writeKubeconfig(t, cfg, "viewer")
		code, out, errOut := run(t, "posture", "scan", "-o", "json", "--kubeconfig", kc, "--context", "viewer")
		if code != ExitViolation {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		rep := decodeReport(t, out)
		if !rep.Partial {
			t.Error("report not partial although RBAC kinds were forbidden")
		}
		joined := strings.Join(rep.Errors, "\n")
		for _, kind := range []string{"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"} {
			if !strings.Contains(joined, "cannot list "+kind+": forbidden") {
				t.Errorf("errors do not say %s was hidden:\n%s", kind, joined)
			}
		}
		if !ruleSet(rep)["posture/privileged shop/Deployment/web"] {
			t.Error("visible workloads were not scanned")
		}
	})
}

func decodeReport(t *testing.T, out string) *finding.Report {
	t.Helper()
	var rep finding.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("decode report: %v\n%s", err, out)
	}
	return &rep
}

// ruleSet returns "rule ns/Kind/name" of every finding.
func ruleSet(rep *finding.Report) map[string]bool {
	got := map[string]bool{}
	for _, f := range rep.Findings {
		got[f.RuleID+" "+f.Resource.Namespace+"/"+f.Resource.Kind+"/"+f.Resource.Name] = true
	}
	return got
}

func writeKubeconfig(t *testing.T, cfg *rest.Config, name string) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["lab"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: "lab", AuthInfo: name}
	kc.CurrentContext = name
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, p); err != nil {
		t.Fatal(err)
	}
	return p
}
