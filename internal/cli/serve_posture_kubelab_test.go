package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/audit/sink"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture/continuous"
	"github.com/palisade-sec/palisade/internal/posture/versions"
)

// TestServePostureAlertsReachSinks runs `palisade serve` with a cluster
// listed in posture.clusters (a real kube-apiserver that anonymous users
// can read, running a privileged workload behind a NodePort) and two sinks
// from audit.sinks: the critical exposure must reach the signed webhook
// and the JSON lines file as posture alerts, with check, cluster, object,
// remediation and controls, within the 60 s promised from registration.
func TestServePostureAlertsReachSinks(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{AnonymousAuth: true})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Anyone reaching the endpoint may list namespaces.
	must(cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "ns-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list"}}},
	}, metav1.CreateOptions{}))
	must(cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "anonymous-ns"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "ns-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "system:unauthenticated"}},
	}, metav1.CreateOptions{}))
	must(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}))
	labels := map[string]string{"app": "miner"}
	must(cs.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "miner"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example/miner:1", SecurityContext: &corev1.SecurityContext{Privileged: new(true)},
				}}},
			},
		},
	}, metav1.CreateOptions{}))
	must(cs.CoreV1().Services("shop").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "miner"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: labels, Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{}))

	data := t.TempDir()
	t.Setenv("PALISADE_DATA_DIR", data)
	// A versions table as `palisade db update` saves it, saying the lab's
	// release is past its end of life: serve must judge by it, not by the
	// embedded table (which supports the lab's release).
	gv, err := c.Version()
	if err != nil {
		t.Fatal(err)
	}
	lv, err := versions.ParseVersion(gv)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PALISADE_CACHE_DIR", t.TempDir())
	if err := writeFileAtomic(versionsTablePath(), fmt.Appendf(nil, "asOf: 2026-11-01\ndistributions:\n  upstream: [{minor: %q, endOfLife: 2026-01-15}]\n", lv.MinorString())); err != nil {
		t.Fatal(err)
	}
	const secret = "hook-secret-posture-0123"
	hook := newSignedHook(t, secret)

	alertsFile := filepath.Join(data, "alerts.jsonl")
	cfg := filepath.Join(data, "palisade.yaml")
	// The kubeconfig path is relative to palisade.yaml, as an operator
	// keeping both in one directory would write it.
	kc, err := os.ReadFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(data, "lab.kubeconfig"), kc, 0o600)
	os.WriteFile(cfg, []byte(`posture:
  clusters:
  - {name: lab, kubeconfig: lab.kubeconfig}
audit:
  sinks:
  - {name: soc, type: webhook, url: "`+hook.url+`", secretEnv: TEST_HOOK_SECRET}
  - {name: archive, type: file, path: "`+alertsFile+`", minSeverity: critical}
`), 0o600)
	tokens := filepath.Join(data, "tokens.csv")
	os.WriteFile(tokens, []byte("admin-token-0123456789,admin,palisade:admins\n"), 0o600)

	_, stderr, started := startPlainServe(t, cfg, tokens, map[string]string{"TEST_HOOK_SECRET": string(secret)})

	const exposed = "posture/internet-exposed-workload"
	const eos = "posture/end-of-support"
	want := []string{continuous.RuleAnonymousAccess, exposed, eos}
	byRule := func() map[string]sink.Alert {
		m := map[string]sink.Alert{}
		for _, a := range hook.alerts() {
			m[a.RuleID] = a
		}
		return m
	}
	var seen map[string]sink.Alert
	for deadline := started.Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		seen = byRule()
		if _, ok := seen[want[0]]; ok {
			if _, ok := seen[want[1]]; ok {
				if _, ok := seen[want[2]]; ok {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("within 60 s of start the webhook got %d alerts, not both of %v\n%s", len(hook.alerts()), want, stderr.String())
		}
	}
	t.Logf("posture alerts at the webhook %v after serve started", time.Since(started).Round(time.Millisecond))

	a := seen[exposed]
	if a.Source != sink.SourcePosture || a.Posture == nil || a.Kind != sink.PostureKind {
		t.Fatalf("exposed workload alert is not a posture alert: %+v", a)
	}
	if a.Cluster != "lab" || a.Severity != finding.SeverityCritical || !strings.HasPrefix(a.ID, "posture-") || a.Message == "" {
		t.Errorf("common fields: id %s cluster %q severity %s message %q", a.ID, a.Cluster, a.Severity, a.Message)
	}
	if o := a.Posture.Object; o.Kind != "Deployment" || o.Namespace != "shop" || o.Name != "miner" || o.Cluster != "lab" {
		t.Errorf("object %+v, want Deployment shop/miner in lab", o)
	}
	if a.Posture.Remediation == "" || len(a.Posture.Controls) == 0 || a.Posture.FindingID == "" {
		t.Errorf("posture detail lacks remediation, controls or finding ID: %+v", a.Posture)
	}
	if anon := seen[continuous.RuleAnonymousAccess]; anon.Source != sink.SourcePosture || anon.Posture == nil || anon.Posture.Object.Kind != "Cluster" {
		t.Errorf("anonymous access alert: %+v", anon)
	} else if anon.Posture.Remediation == "" || !slices.Contains(anon.Posture.Controls, finding.Control{Framework: "CIS-K8s-1.9", ID: "1.2.1"}) {
		t.Errorf("anonymous access alert lacks remediation or CIS 1.2.1: %+v", anon.Posture)
	}
	if e := seen[eos]; e.Posture == nil || !strings.Contains(e.Message, "end of life on 2026-01-15") {
		t.Errorf("end-of-support alert is not judged by the refreshed table: %+v", e)
	}

	// The file sink (minSeverity critical) gets the same alerts, one JSON
	// object a line.
	var lines []sink.Alert
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(alertsFile)
		lines = lines[:0]
		rules := map[string]bool{}
		for l := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
			if l == "" {
				continue
			}
			var fa sink.Alert
			if err := json.Unmarshal([]byte(l), &fa); err != nil || fa.ID == "" {
				t.Fatalf("file sink line %q: %v", l, err)
			}
			lines = append(lines, fa)
			rules[fa.RuleID] = true
		}
		if rules[want[0]] && rules[want[1]] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the file sink never got both posture alerts:\n%s", b)
		}
	}
	for _, fa := range lines {
		if fa.Source != sink.SourcePosture || fa.Severity != finding.SeverityCritical {
			t.Errorf("file sink line: source %q severity %s (%s)", fa.Source, fa.Severity, fa.RuleID)
		}
	}
	// Each alert is announced once, however many rescans follow.
	counts := map[string]int{}
	for _, a := range hook.alerts() {
		counts[a.ID]++
	}
	for id, n := range counts {
		if n != 1 {
			t.Errorf("the webhook got alert %s %d times", id, n)
		}
	}
	if strings.Contains(stderr.String(), secret) {
		t.Error("the webhook secret appears in the logs")
	}
}

// TestServeReportsUnreadableClusterKubeconfig: a cluster in
// posture.clusters whose kubeconfig cannot be read is logged as an error
// naming the key and the file; the server still comes up (its admission
// webhook and audit receiver must not depend on one cluster's file).
func TestServeReportsUnreadableClusterKubeconfig(t *testing.T) {
	data := t.TempDir()
	t.Setenv("PALISADE_DATA_DIR", data)
	cfg := filepath.Join(data, "palisade.yaml")
	os.WriteFile(cfg, []byte("posture:\n  clusters:\n  - {name: prod, kubeconfig: missing.kubeconfig}\n"), 0o600)
	var stdout, stderr syncBuffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Now: time.Now, Getenv: os.Getenv}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"serve", "--config", cfg, "--listen", "127.0.0.1:0", "--plain-http", "--log-level", "info"}, env)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(stderr.String(), "palisade: serving"); time.Sleep(20 * time.Millisecond) {
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never came up:\n%s", stderr.String())
		}
	}
	s := stderr.String()
	if !strings.Contains(s, "posture.clusters[0] (prod)") || !strings.Contains(s, filepath.Join(data, "missing.kubeconfig")) {
		t.Errorf("the log does not name the key and the file:\n%s", s)
	}
}
