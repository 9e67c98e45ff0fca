package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPostureExceptionsImport: kube-prometheus' own Kubescape exceptions,
// imported, except in a posture scan what Kubescape excepted there.
func TestPostureExceptionsImport(t *testing.T) {
	const peerFile = "../posture/peerexceptions/testdata/kube-prometheus-kubescape-exceptions.json"
	code, out, errOut := run(t, "posture", "exceptions", "import", "kubescape", peerFile, "--owner", "platform@example.com")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// 90 days after the test clock's 2026-11-25.
	for _, want := range []string{"exceptions:", "owner: platform@example.com", "expires: 2027-02-23", "name: node-exporter"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "palisade.yaml")
	manifest := filepath.Join(dir, "node-exporter.yaml")
	if err := os.WriteFile(cfg, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	ds := `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-exporter, namespace: monitoring}
spec:
  selector: {matchLabels: {app: node-exporter}}
  template:
    metadata: {labels: {app: node-exporter}}
    spec:
      hostNetwork: true
      hostPID: true
      containers:
      - name: node-exporter
        image: quay.io/prometheus/node-exporter:v1.9.1
        ports: [{containerPort: 9100, hostPort: 9100}]
`
	if err := os.WriteFile(manifest, []byte(ds), 0o600); err != nil {
		t.Fatal(err)
	}
	_, scanOut, _ := run(t, "--config", cfg, "posture", "scan", "-o", "json", "--fail-on", "none", manifest)
	for _, rule := range []string{"posture/host-namespaces", "posture/host-port"} {
		if !strings.Contains(scanOut, `"ruleId": "`+rule+`"`) {
			t.Errorf("scan has no %s finding", rule)
		}
	}
	if strings.Count(scanOut, `"status": "excepted"`) < 3 {
		t.Errorf("the imported exceptions did not apply (want hostNetwork, hostPID and hostPort excepted):\n%s", scanOut)
	}
}

func TestPostureExceptionsImportErrors(t *testing.T) {
	trivy := filepath.Join(t.TempDir(), ".trivyignore")
	if err := os.WriteFile(trivy, []byte("KSV001\naws-access-key-id\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`[{"name": "x", "resources": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"owner required", []string{"kubescape", bad}, ExitUsage, "--owner is required"},
		{"unknown tool", []string{"polaris", bad, "--owner", "x"}, ExitUsage, `unknown source "polaris"`},
		{"bad date", []string{"trivy", trivy, "--owner", "x", "--expires", "next year"}, ExitUsage, "--expires"},
		{"missing file", []string{"trivy", "/nonexistent/.trivyignore", "--owner", "x"}, ExitUsage, "no such file"},
		{"truncated JSON names the file", []string{"kubescape", bad, "--owner", "x"}, ExitUsage, "bad.json: parse Kubescape exceptions"},
		{"something not translated exits 1", []string{"trivy", trivy, "--owner", "x"}, ExitViolation, "aws-access-key-id"},
		{"one file for a tool's file", []string{"trivy", trivy, trivy, "--owner", "x"}, ExitUsage, "one file, not 2"},
		{"annotations: a manifest that does not read", []string{"annotations", bad, "--owner", "x"}, ExitUsage, "bad.json"},
		{"annotations: exemptions of three tools", []string{"annotations", "../posture/peerexceptions/testdata/annotated", "--owner", "x"}, ExitViolation, "name: debug"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"posture", "exceptions", "import"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
		})
	}
}
