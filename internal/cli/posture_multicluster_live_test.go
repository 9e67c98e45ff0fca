package cli

import (
	"path/filepath"
	"strings"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// TestPostureScanManyClusters scans two real kube-apiservers into one
// report: "prod" as admin, "stage" as a service account whose ClusterRole
// lists workloads but no RBAC kinds. Findings carry their cluster, the
// target names both, and the errors say which kinds RBAC hid in stage only.
// Both ways of naming clusters are run: one --kubeconfig per cluster, and
// one kubeconfig with a --context per cluster.
func TestPostureScanManyClusters(t *testing.T) {
	prod := kubelabtest.Start(t, kubelab.Options{})
	stage := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	priv := true
	for _, c := range []*kubelab.Cluster{prod, stage} {
		cs := kubernetes.NewForConfigOrDie(c.Config)
		must(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}))
		must(cs.CoreV1().Pods("shop").Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Image: "nginx:1.27", SecurityContext: &corev1.SecurityContext{Privileged: &priv},
			}}},
		}, metav1.CreateOptions{}))
		must(cs.RbacV1().Roles("shop").Create(ctx, &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "secret-reader"},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}}},
		}, metav1.CreateOptions{}))
	}

	// In stage, the scanner is a service account that may list the
	// workload, network and namespace kinds but none of the RBAC kinds.
	scs := kubernetes.NewForConfigOrDie(stage.Config)
	must(scs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "palisade"}}, metav1.CreateOptions{}))
	must(scs.CoreV1().ServiceAccounts("palisade").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "scanner"}}, metav1.CreateOptions{}))
	must(scs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "workload-lister"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"", "apps", "batch", "networking.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"list"}},
		},
	}, metav1.CreateOptions{}))
	must(scs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "scanner"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "workload-lister"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "scanner", Namespace: "palisade"}},
	}, metav1.CreateOptions{}))
	tok, err := scs.CoreV1().ServiceAccounts("palisade").CreateToken(ctx, "scanner", &authnv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stageSA := stage.TokenConfig(tok.Status.Token)

	dir := t.TempDir()
	both := writeContexts(t, filepath.Join(dir, "both"), map[string]*rest.Config{"prod": prod.Config, "stage": stageSA})
	prodOnly := writeContexts(t, filepath.Join(dir, "prod"), map[string]*rest.Config{"prod": prod.Config})
	stageOnly := writeContexts(t, filepath.Join(dir, "stage"), map[string]*rest.Config{"stage": stageSA})

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"one kubeconfig each", []string{"--kubeconfig", prodOnly, "--kubeconfig", stageOnly}},
		{"contexts of one kubeconfig", []string{"--kubeconfig", both, "--context", "prod", "--context", "stage"}},
		{"context after each kubeconfig", []string{"--kubeconfig", both, "--context", "prod", "--kubeconfig", both, "--context", "stage"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"posture", "scan", "-o", "json"}, tc.args...)...)
			if code != ExitViolation {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			rep := decodeReport(t, out)
			if rep.Target != "clusters prod, stage" {
				t.Errorf("target %q, want both clusters", rep.Target)
			}
			byCluster := map[string]map[string]bool{}
			for _, f := range rep.Findings {
				if byCluster[f.Resource.Cluster] == nil {
					byCluster[f.Resource.Cluster] = map[string]bool{}
				}
				byCluster[f.Resource.Cluster][f.RuleID+" "+f.Resource.Namespace+"/"+f.Resource.Kind+"/"+f.Resource.Name] = true
			}
			for cluster, want := range map[string][]string{
				"prod":  {"posture/privileged shop/Pod/web", "posture/rbac-secrets-read shop/Role/secret-reader"},
				"stage": {"posture/privileged shop/Pod/web"},
			} {
				for _, w := range want {
					if !byCluster[cluster][w] {
						t.Errorf("cluster %s: no finding %q", cluster, w)
					}
				}
			}
			if byCluster["stage"]["posture/rbac-secrets-read shop/Role/secret-reader"] {
				t.Error("stage reported a Role its scanner cannot list")
			}
			if len(byCluster) != 2 {
				t.Errorf("findings of clusters %v, want prod and stage only", keys(byCluster))
			}

			if !rep.Partial {
				t.Error("report not partial although RBAC hid kinds in stage")
			}
			joined := strings.Join(rep.Errors, "\n")
			for _, kind := range []string{"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"} {
				if !strings.Contains(joined, "cluster stage: cannot list "+kind+": forbidden by RBAC") {
					t.Errorf("errors do not say RBAC hid %s in stage:\n%s", kind, joined)
				}
			}
			if strings.Contains(joined, "cluster prod") {
				t.Errorf("errors blame prod, where the admin sees everything:\n%s", joined)
			}
		})
	}
}

func TestPostureScanManyClustersUnreachable(t *testing.T) {
	prod := kubelabtest.Start(t, kubelab.Options{})
	dir := t.TempDir()
	gone := rest.CopyConfig(prod.Config)
	gone.Host = "https://127.0.0.1:1" // nothing listens there
	kc := writeContexts(t, filepath.Join(dir, "kc"), map[string]*rest.Config{"prod": prod.Config, "gone": gone})

	code, out, errOut := run(t, "posture", "scan", "-o", "json", "--fail-on", "none", "--kubeconfig", kc, "--context", "prod", "--context", "gone")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rep := decodeReport(t, out)
	if !rep.Partial || !strings.Contains(strings.Join(rep.Errors, "\n"), "cluster gone: nothing could be listed") {
		t.Errorf("report does not say cluster gone was unreachable: partial %v, errors %v", rep.Partial, rep.Errors)
	}

	code, _, errOut = run(t, "posture", "scan", "--kubeconfig", kc, "--context", "gone")
	if code != ExitUsage || !strings.Contains(errOut, "cluster gone") {
		t.Errorf("only cluster unreachable: exit %d, stderr %q; want exit %d naming it", code, errOut, ExitUsage)
	}
}

// writeContexts writes a kubeconfig with one context per config, named as
// the map's keys, and returns its path.
func writeContexts(t *testing.T, path string, cfgs map[string]*rest.Config) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	for name, cfg := range cfgs {
		kc.Clusters[name] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
		kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken, ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
		kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
		kc.CurrentContext = name
	}
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
