package checks_test

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// TestDanglingRoleBindingLive: a real API server stores bindings to roles
// that do not exist; a live scan reports those, and none of a fresh
// cluster's own bindings (every default role exists).
func TestDanglingRoleBindingLive(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	subjects := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "app", Namespace: "default"}}
	for _, b := range []*rbacv1.RoleBinding{
		{ObjectMeta: metav1.ObjectMeta{Name: "stale", Namespace: "default"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "deleted-role"}, Subjects: subjects},
		{ObjectMeta: metav1.ObjectMeta{Name: "viewer", Namespace: "default"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}, Subjects: subjects},
	} {
		if _, err := cs.RbacV1().RoleBindings("default").Create(ctx, b, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	typo := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "typo"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "clusteradmin"}, Subjects: subjects}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, typo, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	out := scanLive(t, c.Config, "dangling-role-binding")
	var got []string
	for _, f := range out.Findings {
		got = append(got, f.Resource.Kind+"/"+f.Resource.Name)
	}
	slices.Sort(got)
	if want := []string{"ClusterRoleBinding/typo", "RoleBinding/stale"}; !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
}
