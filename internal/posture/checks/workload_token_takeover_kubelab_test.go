package checks_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// TestWorkloadTokenTakeoverAgreesWithAPIServer deploys workloads into a
// real kube-apiserver, each running as a service account bound in its own
// way, scans the cluster live, and asks the API server's
// SubjectAccessReview — as the service account, with the groups its token
// carries — whether it may do what would make its token a takeover. The
// check reports a workload exactly when the API server allows it and the
// token is mounted (and, for its own namespace, Pod Security does not
// stop a privileged pod).
func TestWorkloadTokenTakeoverAgreesWithAPIServer(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	const rbacGroup = "rbac.authorization.k8s.io"
	for ns, enforce := range map[string]string{"shop": "", "ci": "", "ci-locked": "baseline", "grp": ""} {
		labels := map[string]string{}
		if enforce != "" {
			labels["pod-security.kubernetes.io/enforce"] = enforce
		}
		must(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}, metav1.CreateOptions{}))
	}
	clusterRole := func(name string, rules ...rbacv1.PolicyRule) {
		must(cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}))
	}
	rule := func(verb, resource string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{resource}, Verbs: []string{verb}}
	}
	clusterRole("secret-lister", rule("list", "secrets"))
	clusterRole("pod-starter", rule("create", "pods"))
	clusterRole("secret-getter", rule("get", "secrets"))
	clusterRole("impersonator", rule("impersonate", "users"))
	sa := func(ns string) rbacv1.Subject {
		return rbacv1.Subject{Kind: "ServiceAccount", Name: "app", Namespace: ns}
	}
	crb := func(name, role string, subjects ...rbacv1.Subject) {
		must(cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: role}, Subjects: subjects}, metav1.CreateOptions{}))
	}
	rb := func(ns, role string, subjects ...rbacv1.Subject) {
		must(cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: role}, Subjects: subjects}, metav1.CreateOptions{}))
	}
	crb("shop-secrets", "secret-lister", sa("shop"), rbacv1.Subject{Kind: "ServiceAccount", Name: "quiet", Namespace: "shop"})
	rb("ci", "pod-starter", sa("ci"))
	rb("ci-locked", "pod-starter", sa("ci-locked"))
	rb("shop", "secret-getter", rbacv1.Subject{Kind: "ServiceAccount", Name: "reader", Namespace: "shop"})
	crb("grp-impersonates", "impersonator", rbacv1.Subject{Kind: "Group", APIGroup: rbacGroup, Name: "system:serviceaccounts:grp"})

	cases := []struct {
		ns, sa   string
		noMount  bool // the ServiceAccount sets automountServiceAccountToken: false
		req      authorizationv1.ResourceAttributes
		reported bool
		grant    string
	}{
		{ns: "shop", sa: "app", req: authorizationv1.ResourceAttributes{Verb: "list", Resource: "secrets", Namespace: "kube-system"}, reported: true, grant: "secrets-read"},
		{ns: "shop", sa: "quiet", noMount: true, req: authorizationv1.ResourceAttributes{Verb: "list", Resource: "secrets", Namespace: "kube-system"}},
		{ns: "shop", sa: "reader", req: authorizationv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: "kube-system"}},
		{ns: "ci", sa: "app", req: authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: "ci"}, reported: true, grant: "pod-create"},
		{ns: "ci-locked", sa: "app", req: authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: "ci-locked"}},
		{ns: "grp", sa: "worker", req: authorizationv1.ResourceAttributes{Verb: "impersonate", Resource: "users", Name: "admin"}, reported: true, grant: "impersonate"},
	}
	for _, tc := range cases {
		s := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: tc.sa, Namespace: tc.ns}}
		if tc.noMount {
			off := false
			s.AutomountServiceAccountToken = &off
		}
		must(cs.CoreV1().ServiceAccounts(tc.ns).Create(ctx, s, metav1.CreateOptions{}))
		labels := map[string]string{"app": tc.sa}
		must(cs.AppsV1().Deployments(tc.ns).Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: tc.sa},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{ServiceAccountName: tc.sa, Containers: []corev1.Container{{Name: "c", Image: "registry.example.com/app:1"}}},
			}},
		}, metav1.CreateOptions{}))
	}

	out := scanLive(t, c.Config, "workload-token-takeover")
	byWorkload := map[string]finding.Finding{}
	for _, f := range out.Findings {
		byWorkload[f.Resource.Namespace+"/"+f.Resource.Name] = f
	}
	for _, tc := range cases {
		t.Run(tc.ns+"/"+tc.sa, func(t *testing.T) {
			ra := tc.req
			user := "system:serviceaccount:" + tc.ns + ":" + tc.sa
			sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User:               user,
				Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + tc.ns, "system:authenticated"},
				ResourceAttributes: &ra,
			}}, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("SubjectAccessReview: %v", err)
			}
			// The API server allows the takeover request wherever the
			// token is bound to it; mounting and Pod Security decide
			// whether the workload carries it.
			wantAllowed := tc.reported || tc.noMount || tc.ns == "ci-locked"
			if sar.Status.Allowed != wantAllowed {
				t.Errorf("API server allows %s %s in %q to %s: %v, want %v (%s)", ra.Verb, ra.Resource, ra.Namespace, user, sar.Status.Allowed, wantAllowed, sar.Status.Reason)
			}
			f, got := byWorkload[tc.ns+"/"+tc.sa]
			if got != tc.reported {
				t.Fatalf("reported %v, want %v", got, tc.reported)
			}
			if got && evidence(f, "grant") != tc.grant {
				t.Errorf("grant=%s, want %s (paths %s)", evidence(f, "grant"), tc.grant, evidence(f, "paths"))
			}
		})
	}
	if len(out.Findings) != 3 {
		t.Errorf("%d findings, want 3", len(out.Findings))
	}
}
