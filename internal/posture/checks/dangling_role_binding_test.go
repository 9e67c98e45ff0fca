package checks

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
	"github.com/palisade-sec/palisade/internal/posture"
)

// TestDanglingRoleBindingUnlisted: a live scan that could not list a role
// kind cannot tell a missing role from a hidden one, so bindings to that
// kind are not judged; the other kind still is.
func TestDanglingRoleBindingUnlisted(t *testing.T) {
	const doc = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: app, namespace: shop}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ops}
subjects: [{kind: Group, name: ops, apiGroup: rbac.authorization.k8s.io}]
`
	objs, err := kube.Decode(t.Context(), "d.yaml", []byte(doc), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		unlisted map[string]bool
		want     []string
	}{
		{nil, []string{"ClusterRole/ops", "Role/reader"}},
		{map[string]bool{"Role": true}, []string{"ClusterRole/ops"}},
		{map[string]bool{"Role": true, "ClusterRole": true}, nil},
	} {
		inv := kube.NewInventory(objs)
		inv.Unlisted = tc.unlisted
		var got []string
		for _, r := range evalDanglingRoleBinding(&posture.Input{Inventory: inv}, true) {
			got = append(got, r.Evidence[0].Value)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("unlisted %v: roleRefs reported %q, want %q", tc.unlisted, got, tc.want)
		}
	}
}

// TestBuiltInsAreTheAPIServers: the objects a manifest scan takes for
// granted are the ones a real API server creates. Every Role of a fresh
// cluster is a defaultRole, every ClusterRole a defaultClusterRole, and a
// Role of that name in another namespace is not; the Service default/
// kubernetes has apiServerServiceLabels.
func TestBuiltInsAreTheAPIServers(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	roles, err := cs.RbacV1().Roles("").List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(roles.Items) == 0 {
		t.Fatal("a fresh cluster has no Roles")
	}
	for _, r := range roles.Items {
		ref := rbacv1.RoleRef{Kind: "Role", Name: r.Name}
		if !defaultRole(ref, r.Namespace) {
			t.Errorf("Role %s/%s of a fresh cluster is not a defaultRole", r.Namespace, r.Name)
		}
		if defaultRole(ref, "shop") {
			t.Errorf("Role %s is a defaultRole in namespace shop", r.Name)
		}
	}
	// The API server's bootstrap controller creates its Service after
	// the server reports ready.
	var svc *corev1.Service
	err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		svc, err = cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("the API server's Service default/kubernetes: %v", err)
	}
	if !maps.Equal(svc.Labels, map[string]string(apiServerServiceLabels)) {
		t.Errorf("the API server's Service is labelled %v, dangling-monitor takes it for %v", svc.Labels, apiServerServiceLabels)
	}
	clusterRoles, err := cs.RbacV1().ClusterRoles().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range clusterRoles.Items {
		if !defaultClusterRole(rbacv1.RoleRef{Kind: "ClusterRole", Name: r.Name}) {
			t.Errorf("ClusterRole %s of a fresh cluster is not a defaultClusterRole", r.Name)
		}
	}
}
