package checks

import (
	"slices"
	"testing"

	"github.com/palisade-sec/palisade/internal/kube"
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
		for _, r := range evalDanglingRoleBinding(&posture.Input{Inventory: inv}, 13) {
			got = append(got, r.Evidence[0].Value)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("unlisted %v: roleRefs reported %q, want %q", tc.unlisted, got, tc.want)
		}
	}
}
