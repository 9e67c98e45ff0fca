package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// workerTree writes a kubelet-only node whose kubelet runs on flag
// defaults: anonymous access, AlwaysAllow, the read-only port.
func workerTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"etc/hostname": "worker-7\n",
		"etc/systemd/system/kubelet.service.d/10-kubeadm.conf": "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --kubeconfig=/etc/kubernetes/kubelet.conf\n",
		"etc/kubernetes/kubelet.conf":                          "apiVersion: v1\nkind: Config\n",
	}
	for p, s := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// cliCase is one run of the CLI: its exit code and a text its output has
// (stdout, or stderr for usage errors).
type cliCase struct {
	name string
	args []string
	code int
	want string
}

func runCLICases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("output lacks %q:\n%s%s", tc.want, stdout, stderr)
			}
		})
	}
}

func TestNodeCheck(t *testing.T) {
	root := workerTree(t)
	me := strconv.Itoa(os.Getuid()) + ":" + strconv.Itoa(os.Getgid())
	runCLICases(t, []cliCase{
		{"findings fail the gate", []string{"node", "check", "--root", root, "--root-owner", me, "-o", "json"}, ExitViolation, `"ruleId": "node/kubelet-anonymous-auth"`},
		{"fail-on none", []string{"node", "check", "--root", root, "--root-owner", me, "--fail-on", "none"}, ExitOK, "node/kubelet-read-only-port"},
		{"sarif carries the CIS control", []string{"node", "check", "--root", root, "--root-owner", me, "--fail-on", "none", "-o", "sarif"}, ExitOK, "CIS-K8s-1.9"},
		{"bad owner", []string{"node", "check", "--root", root, "--root-owner", "root"}, ExitUsage, "--root-owner"},
		{"missing root", []string{"node", "check", "--root", filepath.Join(root, "nope")}, ExitUsage, "node root"},
		// Not a node (or --root points elsewhere): nothing was checked,
		// which is no clean bill of health.
		{"no component", []string{"node", "check", "--root", t.TempDir()}, ExitUsage, "no Kubernetes component found under"},
	})
}

func TestNodeCheckJSONCoverage(t *testing.T) {
	root := workerTree(t)
	me := strconv.Itoa(os.Getuid()) + ":" + strconv.Itoa(os.Getgid())
	_, stdout, stderr := run(t, "node", "check", "--root", root, "--root-owner", me, "--fail-on", "none", "-o", "json")
	var doc struct {
		Target   string `json:"target"`
		Coverage struct {
			Rules []struct {
				RuleID string `json:"ruleId"`
			} `json:"rules"`
		} `json:"coverage"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(doc.Target, "worker-7") {
		t.Errorf("target %q does not name the node", doc.Target)
	}
	passed := false
	for _, r := range doc.Coverage.Rules {
		passed = passed || r.RuleID == "node/kubelet-kubeconfig-permissions" // 600: a pass
	}
	if !passed {
		t.Errorf("coverage lacks the passing kubeconfig permission check: %+v", doc.Coverage.Rules)
	}
}

func TestNodeCheckFrom(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kubescape := write("kubelet-info.json", `{"apiVersion": "hostdata.kubescape.cloud/v1beta0", "kind": "KubeletInfo", "metadata": {"name": "worker-3"},
		"data": {"cmdLine": "/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml", "configFile": {}}}`)
	trivy := write("nodeinfo.json", `{"apiVersion": "v1", "kind": "NodeInfo", "type": "worker", "metadata": {"name": "worker-4"},
		"info": {"kubeletAuthorizationModeArgumentSet": {"values": ["AlwaysAllow"]}, "kubeletConfFileOwnership": {"values": ["root:root"]}}}`)
	bad := write("bad.json", `{"kind": "NodeInfo", "type": "worker", "info": {"adminConfFilePermissions": {"values": [999]}}}`)
	runCLICases(t, []cliCase{
		{"trivy finding", []string{"node", "check", "--from", trivy}, ExitViolation, "node/kubelet-authz-mode"},
		{"not collected is said, not passed", []string{"node", "check", "--from", kubescape, "--fail-on", "none"}, ExitOK, "check node/kubelet-anonymous-auth not evaluated on node worker-3: kubelet configuration file /var/lib/kubelet/config.yaml contents: not collected by Kubescape host-sensor"},
		{"two collectors, two nodes", []string{"node", "check", "--from", kubescape, "--from", trivy, "--fail-on", "none"}, ExitOK, "nodes worker-3, worker-4"},
		{"malformed names file and field", []string{"node", "check", "--from", bad}, ExitUsage, `bad.json: NodeInfo: info.adminConfFilePermissions.values[0]: "999" is not a file mode in octal`},
		{"missing file", []string{"node", "check", "--from", filepath.Join(dir, "nope.json")}, ExitUsage, "read collector output"},
		{"not with --root", []string{"node", "check", "--from", trivy, "--root", dir}, ExitUsage, "cannot be combined"},
	})
}

func TestNodeCheckFromStdin(t *testing.T) {
	var stdout, stderr strings.Builder
	env := Env{
		Stdin:  strings.NewReader(`{"kind": "NodeInfo", "type": "worker", "info": {"kubeletReadOnlyPortArgumentSet": {"values": [10255]}}}`),
		Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, Now: time.Now,
	}
	code := Execute(t.Context(), []string{"node", "check", "--from", "-", "-o", "json"}, env)
	if code != ExitViolation || !strings.Contains(stdout.String(), `"ruleId": "node/kubelet-read-only-port"`) {
		t.Fatalf("exit %d; stdout %s; stderr %s", code, stdout.String(), stderr.String())
	}
}
