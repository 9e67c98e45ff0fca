package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/sharedtest"
)

const traces = "../../../shared/audit-samples/falco/trace_files/"

func needTraces(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(traces); err != nil {
		sharedtest.Missing(t, "audit samples not available: %v", err)
	}
}

func TestAuditReplay(t *testing.T) {
	needTraces(t)
	falcoRules := "../../../shared/audit-samples/falco/rules/k8s_audit_rules.yaml"
	badRules := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badRules, []byte("rules:\n- id: broken\n  severity: high\n  condition: e.verb ==\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		stderr   []string
		jsonRule string
	}{
		{name: "table", args: []string{"audit", "replay", traces + "attach_cluster_admin_role.json"}, code: 0,
			stdout: []string{"SEVERITY", "Binding to cluster-admin created", "c97244c7-4aec-4714-946a-8204d00ecdca", "T1098.006"}},
		{name: "fail-on high", args: []string{"audit", "replay", "--fail-on", "high", traces + "create_nginx_pod_privileged.json"}, code: 1},
		{name: "fail-on critical passes", args: []string{"audit", "replay", "--fail-on", "critical", traces + "create_nginx_pod_privileged.json"}, code: 0},
		{name: "json", args: []string{"audit", "replay", "-o", "json", traces + "exec_pod.json"}, code: 0, jsonRule: "pod-exec"},
		{name: "falco rules only", args: []string{"audit", "replay", "-o", "json", "--no-builtin-rules", "--rules", falcoRules, traces + "exec_pod.json"},
			code: 0, jsonRule: "falco/attach-exec-pod"},
		{name: "bad record", args: []string{"audit", "replay", traces + "fal_01_003.json"}, code: 2, stderr: []string{"fal_01_003.json:1:"}},
		{name: "missing file", args: []string{"audit", "replay", "nope.json"}, code: 2, stderr: []string{"open audit log"}},
		{name: "bad rule", args: []string{"audit", "replay", "--rules", badRules, traces + "exec_pod.json"}, code: 2,
			stderr: []string{`bad.yaml: rule "broken": compile CEL`, "bad.yaml: rule broken:1:10"}},
		{name: "no rules", args: []string{"audit", "replay", "--no-builtin-rules", traces + "exec_pod.json"}, code: 2, stderr: []string{"no rules"}},
		{name: "bad fail-on", args: []string{"audit", "replay", "--fail-on", "severe", traces + "exec_pod.json"}, code: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if tc.jsonRule != "" {
				found := false
				for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
					var a struct {
						RuleID   string   `json:"ruleId"`
						RuleName string   `json:"ruleName"`
						Severity string   `json:"severity"`
						Evidence []string `json:"evidence"`
						MITRE    struct {
							Techniques []string `json:"techniques"`
						} `json:"mitre"`
					}
					if err := json.Unmarshal([]byte(line), &a); err != nil {
						t.Fatalf("line %q: %v", line, err)
					}
					if a.RuleID == tc.jsonRule {
						found = true
						if a.RuleName == "" || a.Severity == "" || len(a.Evidence) == 0 || a.Evidence[0] == "" {
							t.Errorf("alert lacks name, severity or evidence: %s", line)
						}
					}
				}
				if !found {
					t.Errorf("no %s alert in:\n%s", tc.jsonRule, stdout)
				}
			}
		})
	}
}
