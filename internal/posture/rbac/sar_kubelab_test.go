package rbac

import (
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// TestAgreesWithSubjectAccessReview loads a real kube-apiserver with roles
// and bindings — an aggregated ClusterRole, group, service-account-group and
// service-account bindings, resourceNames, subresources, non-resource URLs —
// lists them as a live scan does, and asks both the engine and the API
// server's own SubjectAccessReview about a matrix of (subject, request).
// Allows must agree with every answer, and WhoCan must name a subject
// covering the identity exactly when the API server allows it. Kubernetes'
// bootstrap roles and bindings take part too (system:basic-user,
// system:discovery, system:public-info-viewer, cluster-admin for
// system:masters).
func TestAgreesWithSubjectAccessReview(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, ns := range []string{"shop", "web"} {
		must(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}))
	}
	rbacGroup := "rbac.authorization.k8s.io"
	crb := func(name, role string, subjects ...rbacv1.Subject) {
		must(cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: role},
			Subjects:   subjects,
		}, metav1.CreateOptions{}))
	}
	rb := func(ns, name, kind, role string, subjects ...rbacv1.Subject) {
		must(cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacGroup, Kind: kind, Name: role},
			Subjects:   subjects,
		}, metav1.CreateOptions{}))
	}
	user := func(n string) rbacv1.Subject { return rbacv1.Subject{Kind: KindUser, APIGroup: rbacGroup, Name: n} }
	group := func(n string) rbacv1.Subject { return rbacv1.Subject{Kind: KindGroup, APIGroup: rbacGroup, Name: n} }
	sa := func(ns, n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: KindServiceAccount, Namespace: ns, Name: n}
	}

	// The aggregated ClusterRole. kubelab runs no controller manager, so
	// its rules are written here as the aggregation controller writes them
	// (the union of the selected roles' rules); the engine computes them
	// from the selector and must land on the same rules.
	podsRule := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods", "pods/log"}, Verbs: []string{"get", "list", "watch"}}
	metricsRule := rbacv1.PolicyRule{NonResourceURLs: []string{"/metrics", "/debug/*"}, Verbs: []string{"get"}}
	agg := map[string]string{"palisade.dev/aggregate-to-monitoring": "true"}
	must(cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "monitoring-pods", Labels: agg}, Rules: []rbacv1.PolicyRule{podsRule}}, metav1.CreateOptions{}))
	must(cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "monitoring-metrics", Labels: agg}, Rules: []rbacv1.PolicyRule{metricsRule}}, metav1.CreateOptions{}))
	must(cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta:      metav1.ObjectMeta{Name: "monitoring"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: agg}}},
		Rules:           []rbacv1.PolicyRule{metricsRule, podsRule},
	}, metav1.CreateOptions{}))
	crb("sre-monitoring", "monitoring", group("sre"))

	must(cs.RbacV1().Roles("shop").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "debugger"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"db-password"}, Verbs: []string{"get"}},
		{APIGroups: []string{"*"}, Resources: []string{"*/scale"}, Verbs: []string{"update"}},
	}}, metav1.CreateOptions{}))
	rb("shop", "alice-debugger", "Role", "debugger", user("alice"))
	must(cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "deployer"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"*"}},
	}}, metav1.CreateOptions{}))
	rb("shop", "shop-sas-deploy", "ClusterRole", "deployer", group("system:serviceaccounts:shop"))
	rb("web", "ci-deploy", "ClusterRole", "deployer", sa("shop", "ci"))
	must(cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "node-lister"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"list"}},
	}}, metav1.CreateOptions{}))
	crb("everyone-lists-nodes", "node-lister", group("system:authenticated"))
	must(cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "impersonator"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"users"}, Verbs: []string{"impersonate"}, ResourceNames: []string{"bob"}},
	}}, metav1.CreateOptions{}))
	crb("ops-impersonate", "impersonator", user("ops"))

	inv, missing, err := kube.ListCluster(ctx, c.Config, "lab", 0)
	if err != nil || len(missing) > 0 {
		t.Fatalf("list cluster: %v %v", err, missing)
	}
	e, err := New(inv)
	if err != nil {
		t.Fatal(err)
	}

	subjects := []string{"user:alice", "user:bob", "user:ops", "sa:shop:ci", "sa:shop:other", "sa:web:deployer", "group:sre", "group:system:masters", "user:system:anonymous"}
	res := func(verb, group, resource, sub, name, ns string) Request {
		return Request{Verb: verb, APIGroup: group, Resource: resource, Subresource: sub, Name: name, Namespace: ns}
	}
	requests := []Request{
		res("list", "", "pods", "", "", "shop"),
		res("watch", "", "pods", "", "", ""),
		res("get", "", "pods", "log", "web-1", "shop"),
		res("delete", "", "pods", "", "web-1", "shop"),
		res("create", "", "pods", "exec", "web-1", "shop"),
		res("create", "", "pods", "exec", "web-1", "web"),
		res("get", "", "secrets", "", "db-password", "shop"),
		res("get", "", "secrets", "", "tls", "shop"),
		res("list", "", "secrets", "", "", "shop"),
		res("update", "apps", "deployments", "scale", "web", "shop"),
		res("create", "apps", "deployments", "", "", "shop"),
		res("patch", "apps", "deployments", "", "web", "web"),
		res("list", "apps", "deployments", "", "", ""),
		res("list", "", "nodes", "", "", ""),
		res("impersonate", "", "users", "", "bob", ""),
		res("impersonate", "", "users", "", "admin", ""),
		res("create", "authorization.k8s.io", "selfsubjectaccessreviews", "", "", ""),
		{Verb: "get", Path: "/metrics"},
		{Verb: "get", Path: "/debug/pprof/heap"},
		{Verb: "get", Path: "/healthz"},
		{Verb: "get", Path: "/version"},
		{Verb: "post", Path: "/metrics"},
	}
	allowedSomewhere := 0
	for _, subject := range subjects {
		s, err := ParseSubject(subject)
		if err != nil {
			t.Fatal(err)
		}
		id := IdentityOf(s)
		for _, r := range requests {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: id.Name, Groups: id.Groups}}
			if r.NonResource() {
				sar.Spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: r.Path, Verb: r.Verb}
			} else {
				sar.Spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Namespace: r.Namespace, Verb: r.Verb,
					Group: r.APIGroup, Resource: r.Resource, Subresource: r.Subresource, Name: r.Name}
			}
			got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("SubjectAccessReview %s %s: %v", subject, r, err)
			}
			want := got.Status.Allowed
			if want {
				allowedSomewhere++
			}
			if allowed, grants := e.Allows(id, r); allowed != want {
				t.Errorf("%s %s: engine says %v, API server says %v (%s); grants %+v", subject, r, allowed, want, got.Status.Reason, grants)
			}
			covered := false
			for _, ws := range Subjects(e.WhoCan(r)) {
				covered = covered || covers(ws, ws.Namespace, id)
			}
			if covered != want {
				t.Errorf("%s %s: who-can covers it: %v, API server says %v", subject, r, covered, want)
			}
		}
	}
	// A matrix the API server denies throughout would prove nothing.
	if allowedSomewhere < 20 {
		t.Errorf("only %d allowed answers in the matrix; the fixture did not load", allowedSomewhere)
	}
}
