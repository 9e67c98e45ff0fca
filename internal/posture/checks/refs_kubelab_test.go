package checks_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"

	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestReliabilityFixturesLive puts the fixtures of the reference checks on
// a real kube-apiserver (which refuses the fail fixtures of
// mismatched-selector and invalid-port: a selector must match its template,
// port names and numbers must be valid) and checks that
// a live scan of what it stored (with the Prometheus operator's CRDs
// installed, for dangling-monitor) finds what the manifests do, but for the
// two differences the API server makes: it never lets a live scan read
// Secrets, so Secret references are judged on manifests only, and it
// writes serviceAccount equal to serviceAccountName in every pod spec it
// returns, so deprecated-service-account-field can only judge manifests.
func TestReliabilityFixturesLive(t *testing.T) {
	ids := []string{"dangling-service", "dangling-network-policy", "dangling-backend", "missing-service-account",
		"duplicate-env-var", "probe-port", "missing-config-source", "mismatched-selector", "invalid-port", "deprecated-service-account-field", "dangling-autoscaler"}
	refused := map[string]bool{"mismatched-selector": true, "invalid-port": true}
	fl := startFixtureLab(t)
	fl.addFixtures(ids)
	// A ServiceMonitor's namespaceSelector names namespaces, which
	// addFile would rename: its fixtures keep shop, made here.
	if _, err := fl.lf.cs.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	fl.addFixtures([]string{"dangling-monitor"}, "shop")
	ids = append(ids, "dangling-monitor")
	// The lab runs no controller manager: give every namespace the
	// "default" ServiceAccount it would create, so that a live scan sees
	// the accounts listed, as in a real cluster.
	nss, err := fl.lf.cs.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range nss.Items {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
		if _, err := fl.lf.cs.CoreV1().ServiceAccounts(ns.Name).Create(t.Context(), sa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	manifests, live := fl.verdicts(posture.NewScanner(reg.Only(ids...), nil))
	var want []string
	seen := map[string]bool{}
	for _, v := range manifests {
		id, _, _ := strings.Cut(v, " ")
		seen[id] = true
		if id == "deprecated-service-account-field" || (id == "missing-config-source" && strings.Contains(v, "kind=Secret")) {
			continue
		}
		want = append(want, v)
	}
	if diff := cmp.Diff(want, live); diff != "" {
		t.Errorf("live findings differ from the manifests' (-manifests +live):\n%s", diff)
	}
	for _, id := range ids {
		if seen[id] == refused[id] {
			t.Errorf("%s: reports %v, want %v (the API server refuses its fail fixtures: %v)", id, seen[id], !refused[id], refused[id])
		}
	}
	for _, v := range live {
		if strings.HasPrefix(v, "deprecated-service-account-field ") {
			t.Errorf("a live scan reports %s", v)
		}
	}
}

// TestMissingServiceAccountRefused checks the rationale of
// missing-service-account on a real API server with the ServiceAccount
// admission plugin on: a pod naming an account that does not exist is
// refused, and accepted once the account exists.
func TestMissingServiceAccountRefused(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{ServiceAccountAdmission: true})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	no := false
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "worker"}, Spec: corev1.PodSpec{
		ServiceAccountName: "worker", AutomountServiceAccountToken: &no,
		Containers: []corev1.Container{{Name: "worker", Image: "registry.example.com/shop/worker:1.0.0"}}}}
	_, err := cs.CoreV1().Pods("shop").Create(ctx, pod, metav1.CreateOptions{})
	if !errors.IsForbidden(err) || !strings.Contains(err.Error(), "service account") {
		t.Fatalf("pod naming a missing ServiceAccount: got %v, want refused", err)
	}
	if _, err := cs.CoreV1().ServiceAccounts("shop").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "worker"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods("shop").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("pod naming an existing ServiceAccount: %v", err)
	}
}
