package checks_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestBootstrapRBACIsLabelled backs behaviour version 4 of the RBAC
// checks, which trust the kubernetes.io/bootstrapping=rbac-defaults label
// and no longer a system: name. On a real kube-apiserver: every system:
// Role, ClusterRole and binding it creates carries the label, so a live
// scan of a fresh cluster reports none of them; and the prefix is not
// reserved, so a user's ClusterRole "system:test" granting * on * is
// accepted, reported at version 4 and missed when pinned to 3.
func TestBootstrapRBACIsLabelled(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	const label = "kubernetes.io/bootstrapping"

	var system, unlabelled []string
	note := func(kind string, m metav1.ObjectMeta) {
		if !strings.HasPrefix(m.Name, "system:") {
			return
		}
		id := kind + " " + m.Namespace + "/" + m.Name
		system = append(system, id)
		if m.Labels[label] != "rbac-defaults" {
			unlabelled = append(unlabelled, id)
		}
	}
	crs, err := cs.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range crs.Items {
		note("ClusterRole", r.ObjectMeta)
		switch r.Name {
		case "cluster-admin", "admin", "edit", "view":
			if r.Labels[label] != "rbac-defaults" {
				unlabelled = append(unlabelled, "ClusterRole "+r.Name)
			}
		}
	}
	crbs, err := cs.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range crbs.Items {
		note("ClusterRoleBinding", b.ObjectMeta)
	}
	rs, err := cs.RbacV1().Roles("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.Items {
		note("Role", r.ObjectMeta)
	}
	rbs, err := cs.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range rbs.Items {
		note("RoleBinding", b.ObjectMeta)
	}
	// A fresh API server creates about a hundred; a handful would mean the
	// bootstrap policy had not been written yet and the test proved nothing.
	if len(system) < 50 {
		t.Fatalf("%d system: RBAC objects, want the bootstrap policy (≥ 50): %v", len(system), system)
	}
	if len(unlabelled) > 0 {
		t.Errorf("bootstrap RBAC objects without %s=rbac-defaults: %v", label, unlabelled)
	}

	// The API server accepts a user's system: ClusterRole and a binding to it.
	const rbacGroup = "rbac.authorization.k8s.io"
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "system:test"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "system:test"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: "system:test"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacGroup, Name: "mallory"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	inv, missing, err := kube.ListCluster(ctx, c.Config, "lab", 0)
	if err != nil || len(missing) > 0 {
		t.Fatalf("list cluster: %v %v", err, missing)
	}
	for _, tc := range []struct {
		pin  posture.Version
		want []string // "check object", sorted as the scanner reports
	}{
		{3, nil},
		{posture.Latest, []string{
			"rbac-cluster-admin-binding system:test",
			"rbac-wildcard system:test",
		}},
	} {
		reg, err := posture.NewRegistry(checks.All(), tc.pin)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, ch := range checks.All() {
			if ch.Category == "rbac" {
				ids = append(ids, ch.ID)
			}
		}
		out, err := posture.NewScanner(reg.Only(ids...), nil).Scan(ctx, inv, posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, f := range out.Findings {
			got[strings.TrimPrefix(f.RuleID, "posture/")+" "+f.Resource.Name] = true
		}
		for _, w := range tc.want {
			if !got[w] {
				t.Errorf("pinned to %d: no finding %q; got %v", tc.pin, w, got)
			}
			delete(got, w)
		}
		// Anything else is a finding on a bootstrap object (or, at
		// version 4, a grant of system:test beyond these two checks).
		for g := range got {
			if !strings.HasSuffix(g, " system:test") || tc.pin != posture.Latest {
				t.Errorf("pinned to %d: unexpected finding %s", tc.pin, g)
			}
		}
	}
}

// TestResourceNameStarIsLiteral backs the escalates= evidence of
// rbac-escalation-verbs (and our disagreement with Trivy KSV051/KSV052):
// resourceNames are matched literally, so bind on clusterroles limited to
// ["*"] lets a user with create on rolebindings bind a role named "*" and
// not cluster-admin; bind without resourceNames lets it bind cluster-admin.
func TestResourceNameStarIsLiteral(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	const rbacGroup = "rbac.authorization.k8s.io"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for user, names := range map[string][]string{"star": {"*"}, "any": nil} {
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "binder-" + user}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{rbacGroup}, Resources: []string{"rolebindings"}, Verbs: []string{"create"}},
			{APIGroups: []string{rbacGroup}, Resources: []string{"clusterroles"}, Verbs: []string{"bind"}, ResourceNames: names},
		}}
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "binder-" + user},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: role.Name},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacGroup, Name: user}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		user    string
		allowed bool
	}{{"star", false}, {"any", true}} {
		cfg := rest.CopyConfig(c.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: tc.user}
		as := kubernetes.NewForConfigOrDie(cfg)
		_, err := as.RbacV1().RoleBindings("shop").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "take-over"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacGroup, Name: tc.user}}}, metav1.CreateOptions{})
		switch {
		case tc.allowed && err != nil:
			t.Errorf("%s binding cluster-admin: %v, want allowed", tc.user, err)
		case !tc.allowed && !apierrors.IsForbidden(err):
			t.Errorf("%s binding cluster-admin: %v, want Forbidden", tc.user, err)
		}
	}
}
