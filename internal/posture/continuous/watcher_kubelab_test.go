package continuous

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/versions"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// newTestManager returns a manager over a fresh store with every check.
func newTestManager(t *testing.T, opts Options) (*Manager, store.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/palisade.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	opts.Scanner, opts.Findings, opts.Alerts = posture.NewScanner(reg, nil), st, st
	m := New(context.Background(), opts)
	t.Cleanup(m.Close)
	return m, st
}

// TestClusterFactsAndReprobe: the versions table serve passes in
// Base.Cluster.Versions (the one `palisade db update` refreshed) is the one
// the cluster is judged by, an AKS node makes the AKS dates apply, and the
// end-of-support alert is stored by the first scan. Then anonymous access
// is opened by RBAC alone — the API server flags do not change — and the
// re-probe on the Rediscover tick turns the medium anonymous-auth-enabled
// finding into the critical anonymous-api-access alert, without a restart.
func TestClusterFactsAndReprobe(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{AnonymousAuth: true})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	gv, err := c.Version()
	if err != nil {
		t.Fatal(err)
	}
	v, err := versions.ParseVersion(gv)
	if err != nil {
		t.Fatal(err)
	}
	minor := v.MinorString()
	// The embedded table supports the lab's release until well after
	// today; this one says upstream support ended last year and AKS's at
	// another date, so the alert can only come from this table and the
	// AKS row.
	table, err := versions.Parse(fmt.Appendf(nil, `asOf: 2026-10-01
distributions:
  upstream: [{minor: %q, endOfLife: 2025-01-10}]
  aks: [{minor: %q, endOfLife: 2025-02-20}]
`, minor, minor))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:   "aks-nodepool1-0",
		Labels: map[string]string{versions.AKSNodeLabel: "MC_rg_lab_westeurope"},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	m, st := newTestManager(t, Options{
		Base:       posture.Options{Cluster: posture.ClusterInfo{Versions: table}},
		Debounce:   100 * time.Millisecond,
		Rediscover: time.Second,
		Resolver:   fakeResolver{}, // the lab is at 127.0.0.1: nothing to resolve
	})
	registered := time.Now()
	if err := m.Register(Cluster{Name: "lab", Config: c.Config}); err != nil {
		t.Fatal(err)
	}
	var eos []store.Alert
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		eos, err = st.ListAlerts(ctx, store.AlertFilter{Cluster: "lab", RuleID: posture.RulePrefix + "end-of-support"})
		return len(eos) > 0, err
	})
	if err != nil {
		t.Fatalf("no end-of-support alert %v after registration: %v", time.Since(registered), err)
	}
	t.Logf("end-of-support alert stored %v after registration", time.Since(registered).Round(time.Millisecond))
	if raw := string(eos[0].Raw); !strings.Contains(raw, "aks "+minor+" reached its end of life on 2025-02-20") {
		t.Errorf("end-of-support alert does not use the AKS row of the given table: %s", raw)
	}
	if s := m.Status(); len(s) != 1 || s[0].GitVersion != gv {
		t.Errorf("status: %+v", s)
	}

	findings := func(rule string) []string {
		fs, err := st.ListFindings(ctx, store.FindingFilter{Scope: ScopePrefix + "lab", RuleID: rule})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			r := f.Finding.Resource
			out = append(out, r.Cluster+"/"+r.Kind+"/"+r.Name+" "+f.Finding.Severity.String())
		}
		return out
	}
	// AnonymousAuth is on and nothing is granted: 403.
	if got := findings(RuleAnonymousAuth); !slices.Equal(got, []string{"lab/Cluster/lab medium"}) {
		t.Errorf("anonymous-auth-enabled findings: %v", got)
	}
	if got := findings(RuleAnonymousAccess); len(got) != 0 {
		t.Errorf("anonymous-api-access before any grant: %v", got)
	}

	_, err = cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "ns-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"list"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "anonymous-ns"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "ns-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "system:unauthenticated"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	granted := time.Now()
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		as, err := st.ListAlerts(ctx, store.AlertFilter{Cluster: "lab", RuleID: RuleAnonymousAccess})
		return len(as) > 0, err
	})
	if err != nil {
		t.Fatalf("anonymous access not alerted %v after the grant: %v", time.Since(granted), err)
	}
	t.Logf("re-probe alerted anonymous access %v after the grant", time.Since(granted).Round(time.Millisecond))
	if got := findings(RuleAnonymousAuth); len(got) != 0 {
		t.Errorf("anonymous-auth-enabled still reported next to anonymous-api-access: %v", got)
	}
}

// TestForbiddenKindsInStatus: watched with an account that may list
// workloads but no RBAC objects, quotas or limit ranges, the status names
// every kind it cannot see, and what it can see is still scanned.
func TestForbiddenKindsInStatus(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	_, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "workload-watcher"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"apps", "batch", "networking.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"list", "watch"}},
			{APIGroups: []string{""}, Resources: []string{"pods", "services", "namespaces", "configmaps", "serviceaccounts"}, Verbs: []string{"list", "watch"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "workload-watcher"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "workload-watcher"},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "watcher"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.ClientCertConfig("watcher")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := newTestManager(t, Options{Resolver: fakeResolver{}})
	if err := m.Register(Cluster{Name: "restricted", Config: cfg}); err != nil {
		t.Fatal(err)
	}
	var s []Status
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(context.Context) (bool, error) {
		s = m.Status()
		return len(s) == 1 && s[0].Scans > 0, nil
	})
	if err != nil {
		t.Fatalf("no scan: %+v", s)
	}
	for _, kind := range []string{"ResourceQuota", "LimitRange", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"} {
		if !slices.Contains(s[0].Missing, kind+" (forbidden)") {
			t.Errorf("status does not name %s as not visible: %v", kind, s[0].Missing)
		}
	}
	for _, kind := range []string{"Pod", "Deployment", "Namespace"} {
		if slices.Contains(s[0].Missing, kind+" (forbidden)") {
			t.Errorf("status names visible kind %s as forbidden: %v", kind, s[0].Missing)
		}
	}
	if s[0].Objects == 0 || s[0].LastError != "" {
		t.Errorf("visible kinds were not scanned: %+v", s[0])
	}
}
