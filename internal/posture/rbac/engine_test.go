package rbac

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/palisade-sec/palisade/internal/kube"
)

func load(t *testing.T) *Engine {
	t.Helper()
	inv, err := kube.Load(t.Context(), []string{"testdata/rbac.yaml"}, nil, kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(inv)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustSubject(t *testing.T, s string) Subject {
	t.Helper()
	sub, err := ParseSubject(s)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func TestAllows(t *testing.T) {
	e := load(t)
	for _, tc := range []struct {
		name    string
		subject string
		req     Request
		want    bool
	}{
		{"aggregated rule via group", "group:sre", Request{Verb: "list", Resource: "pods", Namespace: "x"}, true},
		{"aggregated rule cluster-wide", "group:sre", Request{Verb: "watch", Resource: "pods"}, true},
		{"aggregated subresource", "group:sre", Request{Verb: "get", Resource: "pods", Subresource: "log", Namespace: "x"}, true},
		{"aggregated verb not granted", "group:sre", Request{Verb: "delete", Resource: "pods", Namespace: "x"}, false},
		{"aggregated non-resource URL", "group:sre", Request{Verb: "get", Path: "/metrics"}, true},
		{"non-resource prefix", "group:sre", Request{Verb: "get", Path: "/debug/pprof/heap"}, true},
		{"non-resource other path", "group:sre", Request{Verb: "get", Path: "/healthz"}, false},
		{"not in group", "user:carol", Request{Verb: "list", Resource: "pods", Namespace: "x"}, false},
		{"subresource in role ns", "user:alice", Request{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "shop"}, true},
		{"subresource other ns", "user:alice", Request{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "web"}, false},
		{"subresource is not the resource", "user:alice", Request{Verb: "create", Resource: "pods", Namespace: "shop"}, false},
		{"resourceNames match", "user:alice", Request{Verb: "get", Resource: "secrets", Name: "db-password", Namespace: "shop"}, true},
		{"resourceNames other", "user:alice", Request{Verb: "get", Resource: "secrets", Name: "tls", Namespace: "shop"}, false},
		{"resourceNames unnamed", "user:alice", Request{Verb: "get", Resource: "secrets", Namespace: "shop"}, false},
		{"wildcard subresource", "user:alice", Request{Verb: "update", APIGroup: "apps", Resource: "deployments", Subresource: "scale", Namespace: "shop"}, true},
		{"implicit authenticated", "user:alice", Request{Verb: "list", Resource: "nodes"}, true},
		{"sa implicit authenticated", "sa:kube-system:x", Request{Verb: "list", Resource: "nodes"}, true},
		{"anonymous is not authenticated", "user:system:anonymous", Request{Verb: "list", Resource: "nodes"}, false},
		{"sa namespace group", "sa:shop:anything", Request{Verb: "delete", APIGroup: "apps", Resource: "deployments", Namespace: "shop"}, true},
		{"sa namespace group other ns", "sa:shop:anything", Request{Verb: "delete", APIGroup: "apps", Resource: "deployments", Namespace: "web"}, false},
		{"sa direct", "sa:shop:ci", Request{Verb: "create", APIGroup: "apps", Resource: "deployments", Namespace: "web"}, true},
		{"sa as user name", "user:system:serviceaccount:shop:ci", Request{Verb: "patch", APIGroup: "apps", Resource: "deployments", Namespace: "web"}, true},
		{"wrong group", "sa:shop:ci", Request{Verb: "create", APIGroup: "extensions", Resource: "deployments", Namespace: "web"}, false},
		{"role binding not cluster-wide", "sa:shop:ci", Request{Verb: "list", APIGroup: "apps", Resource: "deployments"}, false},
		{"dangling binding grants nothing", "user:bob", Request{Verb: "get", Resource: "pods", Namespace: "shop"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, grants := e.Allows(IdentityOf(mustSubject(t, tc.subject)), tc.req)
			if got != tc.want {
				t.Errorf("Allows(%s, %s) = %v, want %v (grants %+v)", tc.subject, tc.req, got, tc.want, grants)
			}
		})
	}
	if len(e.Warnings()) != 1 {
		t.Errorf("warnings = %q, want one about the dangling binding", e.Warnings())
	}
}

func TestWhoCan(t *testing.T) {
	e := load(t)
	for _, tc := range []struct {
		name string
		req  Request
		want []string
	}{
		{"deployments in shop", Request{Verb: "create", APIGroup: "apps", Resource: "deployments", Namespace: "shop"}, []string{"group:system:serviceaccounts:shop"}},
		{"deployments in web", Request{Verb: "create", APIGroup: "apps", Resource: "deployments", Namespace: "web"}, []string{"sa:shop:ci"}},
		{"pod logs", Request{Verb: "get", Resource: "pods", Subresource: "log", Namespace: "shop"}, []string{"group:sre"}},
		{"nodes", Request{Verb: "list", Resource: "nodes"}, []string{"group:system:authenticated"}},
		{"nobody", Request{Verb: "delete", Resource: "nodes"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, s := range Subjects(e.WhoCan(tc.req)) {
				got = append(got, s.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("WhoCan(%s) (-want +got):\n%s", tc.req, diff)
			}
		})
	}
}

func TestBuiltInClusterAdmin(t *testing.T) {
	objs, err := kube.Decode(t.Context(), "t.yaml", []byte(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: ops}]
`), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(kube.NewInventory(objs))
	if err != nil {
		t.Fatal(err)
	}
	ops := IdentityOf(Subject{Kind: KindUser, Name: "ops"})
	for _, r := range []Request{{Verb: "delete", Resource: "nodes"}, {Verb: "get", Resource: "secrets", Namespace: "x"}, {Verb: "post", Path: "/anything"}} {
		if ok, _ := e.Allows(ops, r); !ok {
			t.Errorf("cluster-admin binding does not allow %s", r)
		}
	}
	if len(e.Warnings()) != 0 {
		t.Errorf("warnings %q for the built-in cluster-admin", e.Warnings())
	}
}

// TestNamespacelessBindingIsDefault: a Role and RoleBinding written
// without a namespace land in "default" when applied as they are; their
// grants are default's, not the cluster's, and a ServiceAccount subject
// without a namespace is default's account.
func TestNamespacelessBindingIsDefault(t *testing.T) {
	objs, err := kube.Decode(t.Context(), "t.yaml", []byte(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: app}]
`), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(kube.NewInventory(objs))
	if err != nil {
		t.Fatal(err)
	}
	app := IdentityOf(Subject{Kind: KindServiceAccount, Namespace: "default", Name: "app"})
	for _, tc := range []struct {
		ns   string
		want bool
	}{{"default", true}, {"shop", false}, {"", false}} {
		if ok, _ := e.Allows(app, Request{Verb: "get", Resource: "secrets", Namespace: tc.ns}); ok != tc.want {
			t.Errorf("get secrets in %q: %v, want %v", tc.ns, ok, tc.want)
		}
	}
	if len(e.Warnings()) != 0 {
		t.Errorf("warnings %q", e.Warnings())
	}
}

func TestAggregationPath(t *testing.T) {
	e := load(t)
	_, gs := e.Allows(IdentityOf(Subject{Kind: KindGroup, Name: "sre"}), Request{Verb: "get", Path: "/metrics"})
	if len(gs) != 1 || gs[0].AggregatedFrom != "monitoring-metrics" || gs[0].Role.Name != "monitoring" || gs[0].Binding.Name != "sre-monitoring" {
		t.Errorf("grant path = %+v, want sre-monitoring → monitoring ← monitoring-metrics", gs)
	}
}

func TestAggregationCycle(t *testing.T) {
	sel := &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"ring": "yes"}}}}
	a := &rbacv1.ClusterRole{AggregationRule: sel, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"a"}}}}
	a.Name, a.Labels = "a", map[string]string{"ring": "yes"}
	b := &rbacv1.ClusterRole{AggregationRule: sel, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"b"}}}}
	b.Name, b.Labels = "b", map[string]string{"ring": "yes"}
	ag := &aggregator{roles: map[string]*rbacv1.ClusterRole{"a": a, "b": b}, names: []string{"a", "b"}, done: map[string][]rule{}, busy: map[string]bool{}}
	rs, err := ag.rulesOf("a")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Errorf("rules of a = %+v, want its own and b's", rs)
	}
}

func TestDangerous(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule rbacv1.PolicyRule
		want []string
	}{
		{"secrets by name", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"x"}, Verbs: []string{"get"}}, []string{"secrets-read"}},
		{"exec", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}}, []string{"pods-exec"}},
		{"pods/* is not exec", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/*"}, Verbs: []string{"create"}}, nil},
		{"everything", rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}},
			[]string{"secrets-read", "pods-exec", "pod-create", "escalate", "impersonate", "nodes-proxy", "csr-approval", "token-create"}},
		{"read-only pods", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}, nil},
		{"token", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"serviceaccounts/token"}, Verbs: []string{"create"}}, []string{"token-create"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Dangerous(tc.rule)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSubject(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Subject
		wantErr bool
	}{
		{in: "user:alice", want: Subject{Kind: KindUser, Name: "alice"}},
		{in: "group:system:masters", want: Subject{Kind: KindGroup, Name: "system:masters"}},
		{in: "sa:shop:ci", want: Subject{Kind: KindServiceAccount, Namespace: "shop", Name: "ci"}},
		{in: "user:system:serviceaccount:shop:ci", want: Subject{Kind: KindServiceAccount, Namespace: "shop", Name: "ci"}},
		{in: "sa:shop", wantErr: true},
		{in: "robot:x", wantErr: true},
		{in: "alice", wantErr: true},
		{in: "user:", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSubject(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseSubject(f *testing.F) {
	for _, s := range []string{"user:alice", "sa:a:b", "group:x", "user:system:serviceaccount:a:b", "::", "sa::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sub, err := ParseSubject(s)
		if err != nil {
			return
		}
		again, err := ParseSubject(sub.String())
		if err != nil || again != sub {
			t.Errorf("ParseSubject(%q) = %+v; its String %q parses to %+v, %v", s, sub, sub.String(), again, err)
		}
	})
}
