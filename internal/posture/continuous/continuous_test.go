package continuous

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// TestNewClusterAlerts registers a real cluster that anonymous users can
// read and that runs a privileged workload behind a NodePort: both critical
// alerts must be stored within 60 s of registration, and a later change
// (the Service removed) must be picked up by a rescan.
func TestNewClusterAlerts(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{AnonymousAuth: true})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	mustCreate := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "anonymous-view"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "system:anonymous"}},
	}, metav1.CreateOptions{})
	mustCreate(err)
	// "view" does not cover namespaces: add the read a scraper would need.
	_, err = cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "ns-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list"}}},
	}, metav1.CreateOptions{})
	mustCreate(err)
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "anonymous-ns"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "ns-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "system:unauthenticated"}},
	}, metav1.CreateOptions{})
	mustCreate(err)
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{})
	mustCreate(err)
	labels := map[string]string{"app": "miner"}
	_, err = cs.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "miner"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example/miner:1",
					SecurityContext: &corev1.SecurityContext{Privileged: new(true)},
				}}},
			},
		},
	}, metav1.CreateOptions{})
	mustCreate(err)
	_, err = cs.CoreV1().Services("shop").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "miner"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: labels,
			Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{})
	mustCreate(err)

	st, err := sqlite.Open(ctx, t.TempDir()+"/palisade.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	mapping, err := compliance.Load()
	if err != nil {
		t.Fatal(err)
	}
	// OnAlert refuses each alert the first time (a sink outage): the
	// watcher must offer it again on a rescan, and only until it is taken.
	var mu sync.Mutex
	offered, announced := map[string]int{}, map[string]int{} // by alert ID
	announcedRules := map[string]bool{}
	m := New(context.Background(), Options{
		Scanner: posture.NewScanner(reg, mapping.ControlsOf), Findings: st, Alerts: st, Debounce: 200 * time.Millisecond,
		OnAlert: func(_ context.Context, a store.Alert) error {
			mu.Lock()
			defer mu.Unlock()
			if offered[a.ID]++; offered[a.ID] == 1 {
				return errors.New("sink unavailable")
			}
			announced[a.ID]++
			announcedRules[a.RuleID] = true
			return nil
		},
	})
	t.Cleanup(m.Close)

	registered := time.Now()
	if err := m.Register(Cluster{Name: "lab", Config: c.Config}); err != nil {
		t.Fatal(err)
	}
	if err := m.Register(Cluster{Name: "lab", Config: c.Config}); err == nil {
		t.Error("registering a name twice succeeded")
	}
	want := map[string]bool{RuleAnonymousAccess: false, posture.RulePrefix + "internet-exposed-workload": false, posture.RulePrefix + "rbac-anonymous-binding": false}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		as, err := st.ListAlerts(ctx, store.AlertFilter{Cluster: "lab"})
		if err != nil {
			return false, err
		}
		for _, a := range as {
			if _, ok := want[a.RuleID]; ok {
				want[a.RuleID] = true
			}
		}
		for _, seen := range want {
			if !seen {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("alerts after %v: %v (%v)", time.Since(registered), want, err)
	}
	t.Logf("critical alerts stored %v after registration", time.Since(registered).Round(time.Millisecond))

	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		for rule := range want {
			if !announcedRules[rule] {
				return false, nil
			}
		}
		return true, nil
	})
	mu.Lock()
	if err != nil {
		t.Errorf("refused alerts were not offered again: offered %v, announced %v", offered, announced)
	}
	for id, n := range announced {
		if n != 1 {
			t.Errorf("alert %s announced %d times, want once", id, n)
		}
	}
	mu.Unlock()

	as, _ := st.ListAlerts(ctx, store.AlertFilter{Cluster: "lab", RuleID: posture.RulePrefix + "internet-exposed-workload"})
	if len(as) != 1 || as[0].Severity != finding.SeverityCritical {
		t.Errorf("exposed privileged workload alerts: %+v", as)
	}

	// A change is picked up: without its Service the miner is no longer
	// exposed, and the rescan drops the finding.
	if err := cs.CoreV1().Services("shop").Delete(ctx, "miner", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		fs, err := st.ListFindings(ctx, store.FindingFilter{Scope: ScopePrefix + "lab", RuleID: posture.RulePrefix + "internet-exposed-workload"})
		return err == nil && len(fs) == 0, err
	})
	if err != nil {
		t.Fatalf("the exposure finding survived the Service's deletion: %v", err)
	}
	// The status is updated after the findings are stored: wait for it.
	var s []Status
	_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		s = m.Status()
		return len(s) == 1 && s[0].Scans >= 2, nil
	})
	if len(s) != 1 || s[0].Scans < 2 || s[0].Objects == 0 || s[0].GitVersion == "" {
		t.Errorf("status: %+v", s)
	}
}
