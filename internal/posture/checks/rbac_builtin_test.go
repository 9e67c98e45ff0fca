package checks_test

import (
	"testing"

	"github.com/palisade-sec/palisade/internal/posture"
)

// TestBuiltInLevels checks the built-in exemption of the RBAC checks at
// each behaviour version: 1 trusts every system: name, 3 only outside
// ordinary namespaces, 4 only the bootstrap label. Scans pinned to an
// older version keep its verdicts.
func TestBuiltInLevels(t *testing.T) {
	for _, tc := range []struct {
		check, fixture string
		v1, v3, latest int // findings
	}{
		{"rbac-wildcard", "testdata/rbac_wildcard/fail/system_prefix_unlabelled.yaml", 0, 0, 2},
		{"rbac-wildcard", "testdata/rbac_wildcard/fail/system_prefix_role.yaml", 0, 1, 1},
		{"rbac-wildcard", "testdata/rbac_wildcard/pass/bootstrap_labelled.yaml", 0, 0, 0},
		{"rbac-cluster-admin-binding", "testdata/rbac_cluster_admin_binding/fail/system_prefix_binding.yaml", 0, 0, 1},
		{"rbac-cluster-admin-binding", "testdata/rbac_cluster_admin_binding/pass/bootstrap_labelled.yaml", 0, 0, 0},
		{"rbac-cluster-admin-binding", "testdata/rbac_cluster_admin_binding/fail/system_subjects.yaml", 0, 0, 2},
		{"rbac-cluster-admin-binding", "testdata/rbac_cluster_admin_binding/pass/system_masters.yaml", 0, 0, 0},
		{"rbac-pods-exec", "testdata/rbac_wildcard/fail/system_prefix_unlabelled.yaml", 0, 0, 2},
		{"rbac-secrets-read", "testdata/rbac_wildcard/fail/system_prefix_unlabelled.yaml", 0, 0, 2},
		{"rbac-pod-create", "testdata/rbac_wildcard/fail/system_prefix_unlabelled.yaml", 0, 0, 2},
		// Added in version 3: absent when pinned to 1.
		{"rbac-events-delete", "testdata/rbac_wildcard/fail/system_prefix_unlabelled.yaml", 0, 0, 2},
		{"rbac-webhook-config", "testdata/rbac_wildcard/fail/system_prefix_unlabelled.yaml", 0, 0, 1},
	} {
		t.Run(tc.check+"/"+tc.fixture, func(t *testing.T) {
			assertPinned(t, tc.check, tc.fixture, map[posture.Version]int{1: tc.v1, 3: tc.v3, posture.Latest: tc.latest})
		})
	}
}
