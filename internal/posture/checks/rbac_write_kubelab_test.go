package checks_test

import (
	"slices"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/rbac"
)

// TestRBACWriteChecksAgreeWithAPIServer puts roles into a real
// kube-apiserver, binds each to its own user, scans the cluster live and
// asks the API server's SubjectAccessReview whether that user may do what
// the check is about: the check reports the role exactly when the API
// server allows it. The cases are the ones where the new RBAC checks
// leave out a rule that names the resource (a Role on cluster-scoped
// PersistentVolumes, create limited by resourceNames, aws-auth outside
// kube-system, impersonate on secrets) next to ones they report. The
// who-can engine must give the API server's answers for these resources too.
func TestRBACWriteChecksAgreeWithAPIServer(t *testing.T) {
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
	const rbacGroup = "rbac.authorization.k8s.io"
	rule := func(verb, resource string, names ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{resource}, Verbs: []string{verb}, ResourceNames: names}
	}
	req := func(verb, resource, name, ns string) authorizationv1.ResourceAttributes {
		return authorizationv1.ResourceAttributes{Verb: verb, Resource: resource, Name: name, Namespace: ns}
	}
	subreq := func(verb, resource, sub, name string) authorizationv1.ResourceAttributes {
		return authorizationv1.ResourceAttributes{Verb: verb, Resource: resource, Subresource: sub, Name: name}
	}
	cases := []struct {
		check, role, ns string // ns "" for a ClusterRole
		bindNS          string // where a ClusterRole is bound; "" cluster-wide
		rule            rbacv1.PolicyRule
		req             authorizationv1.ResourceAttributes
		target          string // target evidence the finding must carry
	}{
		{check: "rbac-pv-create", role: "storage-admin", rule: rule("create", "persistentvolumes"), req: req("create", "persistentvolumes", "", "")},
		{check: "rbac-pv-create", role: "pv-in-namespace", ns: "shop", rule: rule("create", "persistentvolumes"), req: req("create", "persistentvolumes", "", "")},
		{check: "rbac-configmaps-write", role: "dns-tuner", rule: rule("patch", "configmaps", "coredns"), req: req("patch", "configmaps", "coredns", "kube-system"), target: "coredns"},
		{check: "rbac-configmaps-write", role: "dns-tuner-here", bindNS: "kube-system", rule: rule("update", "configmaps"), req: req("update", "configmaps", "aws-auth", "kube-system"), target: "aws-auth"},
		// A create request carries no name: resourceNames cannot allow it.
		{check: "rbac-configmaps-write", role: "coredns-create", rule: rule("create", "configmaps", "coredns"), req: req("create", "configmaps", "", "kube-system")},
		{check: "rbac-configmaps-write", role: "aws-auth-elsewhere", ns: "default", rule: rule("*", "configmaps", "aws-auth"), req: req("update", "configmaps", "aws-auth", "kube-system")},
		{check: "rbac-secrets-write", role: "ci-deployer", ns: "shop", rule: rule("create", "secrets"), req: req("create", "secrets", "", "shop")},
		{check: "rbac-secrets-write", role: "secret-impersonator", ns: "shop", rule: rule("impersonate", "secrets"), req: req("create", "secrets", "", "shop")},
		{check: "rbac-network-write", role: "svc-editor", ns: "shop", rule: rule("patch", "services"), req: req("patch", "services", "web", "shop")},
		{check: "rbac-destructive-delete", role: "ns-deleter", ns: "shop", rule: rule("delete", "namespaces"), req: req("delete", "namespaces", "shop", "shop")},
		{check: "rbac-destructive-delete", role: "pv-deleter-in-namespace", ns: "shop", rule: rule("delete", "persistentvolumes"), req: req("delete", "persistentvolumes", "pv-1", "")},
		// Nodes are cluster-scoped: a Role grants nothing on nodes/proxy.
		{check: "rbac-nodes-proxy", role: "node-proxy", rule: rule("get", "nodes/proxy"), req: subreq("get", "nodes", "proxy", "node-1")},
		{check: "rbac-nodes-proxy", role: "node-proxy-in-namespace", ns: "shop", rule: rule("update", "nodes/proxy"), req: subreq("update", "nodes", "proxy", "node-1")},
	}
	for _, tc := range cases {
		user := "user-" + tc.role
		subjects := []rbacv1.Subject{{Kind: "User", APIGroup: rbacGroup, Name: user}}
		switch {
		case tc.ns != "":
			must(cs.RbacV1().Roles(tc.ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: tc.role}, Rules: []rbacv1.PolicyRule{tc.rule}}, metav1.CreateOptions{}))
			must(cs.RbacV1().RoleBindings(tc.ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: tc.role},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "Role", Name: tc.role}, Subjects: subjects}, metav1.CreateOptions{}))
		default:
			must(cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: tc.role}, Rules: []rbacv1.PolicyRule{tc.rule}}, metav1.CreateOptions{}))
			ref := rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: tc.role}
			if tc.bindNS != "" {
				must(cs.RbacV1().RoleBindings(tc.bindNS).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: tc.role}, RoleRef: ref, Subjects: subjects}, metav1.CreateOptions{}))
			} else {
				must(cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: tc.role}, RoleRef: ref, Subjects: subjects}, metav1.CreateOptions{}))
			}
		}
	}

	inv, missing, err := kube.ListCluster(ctx, c.Config, "lab", 0)
	if err != nil || len(missing) > 0 {
		t.Fatalf("list cluster: %v %v", err, missing)
	}
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	// posture who-can and can answer from this engine.
	engine, err := rbac.New(inv)
	if err != nil {
		t.Fatal(err)
	}
	findings := map[string][]finding.Finding{} // check → findings
	scan := func(check string) []finding.Finding {
		if fs, ok := findings[check]; ok {
			return fs
		}
		out, err := posture.NewScanner(reg.Only(check), nil).Scan(ctx, inv, posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		findings[check] = out.Findings
		return out.Findings
	}

	allowed := 0
	for _, tc := range cases {
		t.Run(tc.role, func(t *testing.T) {
			ra := tc.req
			sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
				Spec: authorizationv1.SubjectAccessReviewSpec{User: "user-" + tc.role, ResourceAttributes: &ra},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("SubjectAccessReview: %v", err)
			}
			if sar.Status.Allowed {
				allowed++
			}
			who := rbac.Request{Verb: ra.Verb, Resource: ra.Resource, Subresource: ra.Subresource, Name: ra.Name, Namespace: ra.Namespace}
			user := rbac.Subject{Kind: rbac.KindUser, Name: "user-" + tc.role}
			if can, _ := engine.Allows(rbac.IdentityOf(user), who); can != sar.Status.Allowed {
				t.Errorf("can %s %s: %v, API server says %v", user, who, can, sar.Status.Allowed)
			}
			if listed := slices.Contains(rbac.Subjects(engine.WhoCan(who)), user); listed != sar.Status.Allowed {
				t.Errorf("who-can %s lists %s: %v, API server says %v", who, user, listed, sar.Status.Allowed)
			}
			var got *finding.Finding
			for _, f := range scan(tc.check) {
				if f.Resource.Name == tc.role {
					got = &f
					break
				}
			}
			if (got != nil) != sar.Status.Allowed {
				t.Errorf("%s on %s: finding %v, API server allows %s %s %s in %q: %v (%s)",
					tc.check, tc.role, got != nil, ra.Verb, ra.Resource, ra.Name, ra.Namespace, sar.Status.Allowed, sar.Status.Reason)
			}
			if got != nil && tc.target != "" && !slices.ContainsFunc(got.Evidence, func(e finding.Evidence) bool { return e.Name == "target" && e.Value == tc.target }) {
				t.Errorf("%s on %s: evidence %v lacks target=%s", tc.check, tc.role, got.Evidence, tc.target)
			}
		})
	}
	// Half the cases are allowed; none allowed would mean the roles did
	// not load and the comparison proved nothing.
	if allowed < 5 {
		t.Errorf("the API server allowed %d of %d cases; want at least 5", allowed, len(cases))
	}

	// pods/log answers get only: deleting it, which Trivy KSV042 asks to
	// deny, is not an operation (rbac-destructive-delete covers deleting
	// the pod, which removes its logs).
	err = cs.CoreV1().RESTClient().Delete().Namespace("shop").Resource("pods").Name("web-1").SubResource("log").Do(ctx).Error()
	if !apierrors.IsMethodNotSupported(err) {
		t.Errorf("DELETE pods/log: %v, want 405 Method Not Allowed", err)
	}
}
