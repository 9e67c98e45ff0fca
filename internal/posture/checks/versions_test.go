package checks_test

import (
	"testing"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestPinnedBehaviour checks that the version 2, 3 and 4 behaviours of checks stay
// out of scans pinned to version 1, so pinned policies do not move.
func TestPinnedBehaviour(t *testing.T) {
	for _, tc := range []struct {
		check, fixture string
		v1, latest     int // findings
	}{
		{"run-as-root", "testdata/run_as_root/fail/root_group.yaml", 0, 1},
		{"rbac-secrets-read", "testdata/rbac_secrets_read/pass/resource_names.yaml", 1, 0},
		{"configmap-secrets", "testdata/configmap_secrets/fail/env_file_value.yaml", 0, 1},
		{"rbac-default-service-account-binding", "testdata/rbac_default_service_account_binding/fail/bindings.yaml", 0, 3},
		{"image-tag", "testdata/image_tag/fail/bad_digest.yaml", 0, 4},
		{"rbac-wildcard", "testdata/rbac_wildcard/fail/system_prefix_role.yaml", 0, 1},
		{"rbac-pod-create", "testdata/rbac_pod_create/fail/patch_deployment.yaml", 0, 1},
		{"pss-restricted", "testdata/pss_restricted/pass/volume_without_source.yaml", 1, 0},
		{"internet-exposed-workload", "testdata/internet_exposed_workload/fail/service_without_namespace.yaml", 0, 1},
		{"rbac-nodes-proxy", "testdata/rbac_nodes_proxy/pass/role_in_namespace.yaml", 1, 0},
	} {
		t.Run(tc.check, func(t *testing.T) {
			inv, err := kube.Load(t.Context(), []string{tc.fixture}, nil, kube.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []struct {
				pin  posture.Version
				want int
			}{{1, tc.v1}, {posture.Latest, tc.latest}} {
				reg, err := posture.NewRegistry(checks.All(), p.pin)
				if err != nil {
					t.Fatal(err)
				}
				out, err := posture.NewScanner(reg.Only(tc.check), nil).Scan(t.Context(), inv, posture.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if len(out.Findings) != p.want {
					t.Errorf("pinned to %d: %d findings, want %d", p.pin, len(out.Findings), p.want)
				}
			}
		})
	}
}
