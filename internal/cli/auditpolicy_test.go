package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// TestAuditPolicyOnRealAPIServer gives the printed policy to a real
// kube-apiserver (which refuses to start on an invalid policy) and checks
// the levels it records: RequestResponse for a ClusterRoleBinding create,
// Metadata for a Secret, Request for an ordinary write (a ServiceAccount), and
// nothing for event reads.
func TestAuditPolicyOnRealAPIServer(t *testing.T) {
	code, policy, errOut := run(t, "audit", "policy")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c := kubelabtest.Start(t, kubelab.Options{AuditLog: true, AuditPolicy: []byte(policy)})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "policy-test-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "mallory"}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "policy-test"}, StringData: map[string]string{"password": "hunter2-do-not-log"}}
	if _, err := cs.CoreV1().Secrets("default").Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "policy-test"}}
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}

	type event struct {
		Level     string `json:"level"`
		Stage     string `json:"stage"`
		Verb      string `json:"verb"`
		ObjectRef *struct {
			Resource string `json:"resource"`
			Name     string `json:"name"`
		} `json:"objectRef"`
		RequestObject  json.RawMessage `json:"requestObject"`
		ResponseObject json.RawMessage `json:"responseObject"`
	}
	find := func(resource, verb, name string) *event {
		data, err := os.ReadFile(c.AuditLogPath)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var e event
			if json.Unmarshal(sc.Bytes(), &e) != nil || e.ObjectRef == nil {
				continue
			}
			if e.ObjectRef.Resource == resource && e.Verb == verb && (name == "" || e.ObjectRef.Name == name) {
				if e.Stage == "RequestReceived" {
					t.Errorf("%s %s: RequestReceived stage recorded; the policy omits it", verb, resource)
				}
				return &e
			}
		}
		return nil
	}
	var crbEv *event
	for deadline := time.Now().Add(20 * time.Second); crbEv == nil || find("serviceaccounts", "create", "") == nil; {
		if time.Now().After(deadline) {
			t.Fatal("the audit log never showed the ClusterRoleBinding and ServiceAccount creates")
		}
		time.Sleep(100 * time.Millisecond)
		crbEv = find("clusterrolebindings", "create", "policy-test-admin")
	}
	if crbEv.Level != "RequestResponse" || len(crbEv.RequestObject) == 0 || len(crbEv.ResponseObject) == 0 {
		t.Errorf("ClusterRoleBinding create: level %s, request %d bytes, response %d bytes; want RequestResponse with both",
			crbEv.Level, len(crbEv.RequestObject), len(crbEv.ResponseObject))
	}
	if e := find("secrets", "create", "policy-test"); e == nil || e.Level != "Metadata" || len(e.RequestObject) != 0 {
		t.Errorf("Secret create: %+v; want Metadata without the object", e)
	}
	if e := find("serviceaccounts", "create", ""); e.Level != "Request" || len(e.RequestObject) == 0 || len(e.ResponseObject) != 0 {
		t.Errorf("ServiceAccount create: level %s; want Request with the request body only", e.Level)
	}
	if e := find("events", "list", ""); e != nil {
		t.Errorf("event list recorded at %s; the policy drops it", e.Level)
	}
	if data, _ := os.ReadFile(c.AuditLogPath); strings.Contains(string(data), "hunter2") {
		t.Error("the Secret's value reached the audit log")
	}
}

func TestAuditPolicyWebhookKubeconfig(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644)
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte("src-token-0123456789\n"), 0o600)
	out := filepath.Join(dir, "out")
	code, stdout, errOut := run(t, "audit", "policy", "--webhook-url", "https://palisade.example:8443/audit/v1/webhook", "--ca-file", ca, "--token-file", tok, "--output-dir", out)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "audit-webhook.kubeconfig") {
		t.Errorf("stdout does not name the files: %s", stdout)
	}
	policy, _ := os.ReadFile(filepath.Join(out, "audit-policy.yaml"))
	if string(policy) != RecommendedAuditPolicy {
		t.Error("audit-policy.yaml differs from the recommended policy")
	}
	kc, err := clientcmd.LoadFromFile(filepath.Join(out, "audit-webhook.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	cl := kc.Clusters[kc.Contexts[kc.CurrentContext].Cluster]
	user := kc.AuthInfos[kc.Contexts[kc.CurrentContext].AuthInfo]
	if cl.Server != "https://palisade.example:8443/audit/v1/webhook" || !strings.Contains(string(cl.CertificateAuthorityData), "BEGIN CERTIFICATE") || user.Token != "src-token-0123456789" {
		t.Errorf("kubeconfig: server %s, token %q, CA %d bytes", cl.Server, user.Token, len(cl.CertificateAuthorityData))
	}
	if fi, _ := os.Stat(filepath.Join(out, "audit-webhook.kubeconfig")); fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode %v, want 0600 (it holds a token)", fi.Mode().Perm())
	}

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"http url", []string{"--webhook-url", "http://x/audit/v1/webhook"}},
		{"ca without url", []string{"--ca-file", ca}},
		{"missing ca", []string{"--webhook-url", "https://x/audit/v1/webhook", "--ca-file", filepath.Join(dir, "nope")}},
	} {
		if code, _, _ := run(t, append([]string{"audit", "policy"}, tc.args...)...); code != ExitUsage {
			t.Errorf("%s: exit %d, want %d", tc.name, code, ExitUsage)
		}
	}
}
