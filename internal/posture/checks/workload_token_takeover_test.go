package checks_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/posture"
)

// TestWorkloadTokenTakeoverEvidence checks, per failing fixture, which
// workloads are reported and with which severity, service account, worst
// grant and scope: the path a reader fixes.
func TestWorkloadTokenTakeoverEvidence(t *testing.T) {
	const dir = "testdata/workload_token_takeover/fail/"
	for _, tc := range []struct {
		fixture string
		want    map[string]string // workload → "severity serviceAccount grant scope binding"
	}{
		{"cluster_secrets_list.yaml", map[string]string{
			"DaemonSet/exporter": "critical monitoring/exporter secrets-read cluster ClusterRoleBinding/exporter"}},
		{"group_serviceaccounts.yaml", map[string]string{
			// quiet turns its token off; blog is not in the group.
			"Deployment/web": "critical shop/web pod-create cluster ClusterRoleBinding/shop-launches-jobs",
			"Job/migrate":    "critical shop/default pod-create cluster ClusterRoleBinding/shop-launches-jobs"}},
		{"default_service_account_admin.yaml", map[string]string{
			"Pod/debug": "critical tools/default admin cluster ClusterRoleBinding/default-admin"}},
		{"own_namespace_pod_create.yaml", map[string]string{
			"Deployment/runner": "medium ci/runner pod-create own-namespace RoleBinding/ci/runner"}},
		{"other_namespace_deploy.yaml", map[string]string{
			"Deployment/runner": "high ci/runner pod-create other-namespace RoleBinding/payments/ci-deploys"}},
		{"projected_token.yaml", map[string]string{
			"Deployment/scraper": "critical monitoring/scraper nodes-proxy cluster ClusterRoleBinding/node-metrics"}},
		{"aggregated_escalate.yaml", map[string]string{
			"Deployment/platform-operator": "critical platform/platform escalate cluster ClusterRoleBinding/platform"}},
		{"kube_system_secrets.yaml", map[string]string{
			"Job/backup": "critical ops/backup secrets-read kube-system RoleBinding/kube-system/cert-reader"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			got := map[string]string{}
			for _, f := range scanFixture(t, "workload-token-takeover", dir+tc.fixture, posture.Latest) {
				got[f.Resource.Kind+"/"+f.Resource.Name] = strings.Join([]string{f.Severity.String(),
					evidence(f, "serviceAccount"), evidence(f, "grant"), evidence(f, "scope"), evidence(f, "binding")}, " ")
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}

// TestWorkloadTokenTakeoverPaths checks the path evidence: grant, scope,
// binding, role, rule index and what the rule grants.
func TestWorkloadTokenTakeoverPaths(t *testing.T) {
	fs := scanFixture(t, "workload-token-takeover", "testdata/workload_token_takeover/fail/cluster_secrets_list.yaml", posture.Latest)
	if len(fs) != 1 {
		t.Fatalf("%d findings, want 1", len(fs))
	}
	want := "secrets-read cluster-wide via ClusterRoleBinding/exporter → ClusterRole/exporter rule 1 (list on secrets)"
	if got := evidence(fs[0], "paths"); got != want {
		t.Errorf("paths = %q, want %q", got, want)
	}
}

// TestWorkloadTokenTakeoverPinned checks that scans pinned to behaviour
// version 4 do not run the check.
func TestWorkloadTokenTakeoverPinned(t *testing.T) {
	const fixture = "testdata/workload_token_takeover/fail/default_service_account_admin.yaml"
	if fs := scanFixture(t, "workload-token-takeover", fixture, 4); len(fs) != 0 {
		t.Errorf("pinned to 4: %d findings, want 0", len(fs))
	}
	if fs := scanFixture(t, "workload-token-takeover", fixture, 5); len(fs) != 1 {
		t.Errorf("pinned to 5: %d findings, want 1", len(fs))
	}
}
