package checks_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/palisade-sec/palisade/internal/finding"
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
			assertPinned(t, tc.check, tc.fixture, map[posture.Version]int{1: tc.v1, posture.Latest: tc.latest})
		})
	}
}

// TestSandboxWorkloadsPinned checks that Agent Sandbox pod templates stay
// out of scans pinned to version 7: no workload check judges them there,
// and the version 8 checks do not run, while the latest behaviour judges
// them with every workload check.
func TestSandboxWorkloadsPinned(t *testing.T) {
	files := []string{
		"testdata/network_pod_isolation/fail/sandbox.yaml",
		"testdata/sandbox_egress/fail/default_policy.yaml",
		"testdata/sandbox_runtime_class/fail/missing.yaml",
		"testdata/sandbox_resource_ceiling/fail/over.yaml",
	}
	inv, err := kube.Load(t.Context(), files, nil, kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		pin      posture.Version
		wantNone bool
	}{{7, true}, {8, false}, {posture.Latest, false}} {
		reg, err := posture.NewRegistry(checks.All(), p.pin)
		if err != nil {
			t.Fatal(err)
		}
		out, err := posture.NewScanner(reg, nil).Scan(t.Context(), inv, posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rules := map[string]bool{}
		for _, f := range out.Findings {
			rules[f.RuleID] = true
		}
		if p.wantNone && len(rules) > 0 {
			t.Errorf("pin %d judged the sandboxes: %v", p.pin, rules)
		}
		if !p.wantNone {
			for _, r := range []string{"image-tag", "resources", "network-pod-isolation", "sandbox-egress", "sandbox-runtime-class", "run-as-root"} {
				if !rules[posture.RulePrefix+r] {
					t.Errorf("pin %d: no %s finding on the sandboxes", p.pin, r)
				}
			}
		}
	}
}

// TestPinnedBeforeFixes checks that a scan pinned to the version before a
// fix still finds what that version found. Version 13 judges Helm hook
// pods as one-offs and takes the API server's own Roles and Service for
// granted; version 14 takes for granted what controllers make from the
// set (a Certificate's Secret, the Prometheus operator's pods and kubelet
// Service, istiod's CA ConfigMap, a StatefulSet's per-pod labels) and
// the control plane's pods, and no longer takes values about secrets (a
// hash method, a user name, a command reading one) for secrets.
func TestPinnedBeforeFixes(t *testing.T) {
	for _, tc := range []struct {
		fixed          posture.Version
		check, fixture string
		before         int // findings pinned to fixed-1; none from fixed on
	}{
		{13, "probes", "testdata/probes/pass/helm_test_pod.yaml", 1},
		{13, "bare-pod", "testdata/bare_pod/pass/helm_hook.yaml", 2},
		{13, "restart-policy", "testdata/restart_policy/pass/helm_test_pod.yaml", 1},
		{13, "dangling-role-binding", "testdata/dangling_role_binding/pass/api_server_roles.yaml", 1},
		{13, "dangling-monitor", "testdata/dangling_monitor/pass/api_server.yaml", 1},
		{14, "dangling-service", "testdata/dangling_service/pass/implied_pods.yaml", 6},
		{14, "missing-config-source", "testdata/missing_config_source/pass/produced_secrets.yaml", 4},
		{14, "missing-config-source", "testdata/missing_config_source/pass/istio_root_cert.yaml", 1},
		{14, "dangling-monitor", "testdata/dangling_monitor/pass/prometheus_operator.yaml", 2},
		{14, "dangling-network-policy", "testdata/dangling_network_policy/pass/implied_pods.yaml", 2},
		{14, "configmap-secrets", "testdata/configmap_secrets/pass/about_secrets.yaml", 4},
	} {
		t.Run(tc.check, func(t *testing.T) {
			assertPinned(t, tc.check, tc.fixture, map[posture.Version]int{tc.fixed - 1: tc.before, tc.fixed: 0, posture.Latest: 0})
		})
	}
}

// assertPinned checks that check reports want[pin] findings on fixture in
// a scan pinned to each pin of want.
func assertPinned(t *testing.T, check, fixture string, want map[posture.Version]int) {
	t.Helper()
	inv, err := kube.Load(t.Context(), []string{fixture}, nil, kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pin := range slices.Sorted(maps.Keys(want)) {
		if got := len(scanPinned(t, inv, check, pin)); got != want[pin] {
			t.Errorf("pinned to %d: %d findings, want %d", pin, got, want[pin])
		}
	}
}

// TestVersion14PerPodExposure checks that a StatefulSet exposed only by a
// Service per pod is found exposed from version 14 on, and not before.
func TestVersion14PerPodExposure(t *testing.T) {
	assertPinned(t, "internet-exposed-workload", "testdata/internet_exposed_workload/fail/per_pod_service.yaml",
		map[posture.Version]int{13: 0, 14: 1, posture.Latest: 1})
}

// TestVersion14WildcardSeverity checks that '*' on every resource of an
// API group that serves only itself is high from version 14 and critical
// before it, and stays critical over a group that reaches workloads.
func TestVersion14WildcardSeverity(t *testing.T) {
	inv, err := kube.Load(t.Context(), []string{"testdata/rbac_wildcard/fail/one_api_group.yaml"}, nil, kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for pin, want := range map[posture.Version]map[string]finding.Severity{
		13:             {"custom-metrics-server-resources": finding.SeverityCritical, "deployer": finding.SeverityCritical},
		14:             {"custom-metrics-server-resources": finding.SeverityHigh, "deployer": finding.SeverityCritical},
		posture.Latest: {"custom-metrics-server-resources": finding.SeverityHigh, "deployer": finding.SeverityCritical},
	} {
		got := map[string]finding.Severity{}
		for _, f := range scanPinned(t, inv, "rbac-wildcard", pin) {
			got[f.Resource.Name] = f.Severity
		}
		if !maps.Equal(got, want) {
			t.Errorf("pinned to %d: severities %v, want %v", pin, got, want)
		}
	}
}
