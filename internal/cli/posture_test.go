package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
)

const privilegedPod = `apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: shop}
spec:
  containers:
  - name: app
    image: nginx:latest
    securityContext: {privileged: true}
`

// hardenedPod is a pod as exported from a cluster: its ReplicaSet owns it
// (a bare pod is reported by bare-pod).
const hardenedPod = `apiVersion: v1
kind: Pod
metadata:
  name: good
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: good-5d8f, uid: 6a1f2b9e-0c43-4f0e-8d7a-2c5b9e1f0a33, controller: true}]
spec:
  serviceAccountName: good
  automountServiceAccountToken: false
  priorityClassName: business
  securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: registry.example.com/app@sha256:0000000000000000000000000000000000000000000000000000000000000000
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
    resources: {limits: {cpu: 100m, memory: 64Mi}}
    livenessProbe: {httpGet: {path: /, port: 80}}
    readinessProbe: {httpGet: {path: /, port: 80}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: good, namespace: shop}
automountServiceAccountToken: false
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
`

func writeTemp(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPostureScanManifests(t *testing.T) {
	bad := writeTemp(t, "bad.yaml", privilegedPod)
	good := writeTemp(t, "good.yaml", hardenedPod)
	broken := writeTemp(t, "broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"privileged fails the gate", []string{"posture", "scan", bad}, ExitViolation, "posture/privileged"},
		{"hardened passes", []string{"posture", "scan", good}, ExitOK, "0 open"},
		{"fail-on none", []string{"posture", "scan", "--fail-on", "none", bad}, ExitOK, "critical"},
		{"fail-on critical with only lows", []string{"posture", "scan", "--fail-on", "critical", good}, ExitOK, ""},
		{"bad fail-on", []string{"posture", "scan", "--fail-on", "severe", bad}, ExitUsage, ""},
		{"no input", []string{"posture", "scan"}, ExitUsage, ""},
		{"broken input", []string{"posture", "scan", broken, bad}, ExitUsage, "posture/privileged"},
		{"missing file", []string{"posture", "scan", filepath.Join(t.TempDir(), "nope.yaml")}, ExitUsage, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

func TestPostureScanJSONLinesAndControls(t *testing.T) {
	bad := writeTemp(t, "bad.yaml", privilegedPod)
	code, out, errOut := run(t, "posture", "scan", "-o", "json", bad)
	if code != ExitViolation {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep finding.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var priv *finding.Finding
	for i := range rep.Findings {
		if rep.Findings[i].RuleID == "posture/privileged" {
			priv = &rep.Findings[i]
		}
	}
	if priv == nil {
		t.Fatal("no posture/privileged finding")
	}
	r := priv.Resource
	if r.File != bad || r.Line != 8 || r.Kind != "Pod" || r.Name != "bad" || r.Namespace != "shop" || r.Container != "app" {
		t.Errorf("resource = %+v", r)
	}
	var cis bool
	for _, c := range priv.Controls {
		cis = cis || (c.Framework == "CIS-K8s-1.9" && c.ID == "5.2.2")
	}
	if !cis {
		t.Errorf("controls %v lack CIS 5.2.2", priv.Controls)
	}
}

func TestPostureScanConfigException(t *testing.T) {
	bad := writeTemp(t, "bad.yaml", privilegedPod)
	cfg := writeTemp(t, "palisade.yaml", `exceptions:
  - match: {rule: ["posture/*"], namespace: shop}
    owner: platform-team
    reason: lab namespace
    expires: 2099-01-01
`)
	code, out, errOut := run(t, "--config", cfg, "posture", "scan", bad)
	if code != ExitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "platform-team") {
		t.Errorf("excepted findings not shown with their owner:\n%s", out)
	}
}

func TestPostureScanStdin(t *testing.T) {
	var stdout, stderr bytes.Buffer
	env := Env{
		Stdin: strings.NewReader(privilegedPod), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(string) string { return "" },
		Now:    func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
	}
	code := Execute(t.Context(), []string{"posture", "scan", "-o", "json", "-"}, env)
	if code != ExitViolation {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	rep := decodeReport(t, stdout.String())
	for _, f := range rep.Findings {
		if f.RuleID == "posture/privileged" {
			if f.Resource.File != "<stdin>" || f.Resource.Line != 8 {
				t.Errorf("stdin finding at %s:%d, want <stdin>:8", f.Resource.File, f.Resource.Line)
			}
			return
		}
	}
	t.Error("no posture/privileged finding from stdin")
}

// TestPostureScanSkipsNonManifests checks that a repository directory with
// package.json next to its manifests scans, naming what it left out.
func TestPostureScanSkipsNonManifests(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"deploy/pod.yaml": hardenedPod,
		"package.json":    `{"name": "shop", "version": "1.0.0"}`,
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := run(t, "posture", "scan", dir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "0 open") || !strings.Contains(errOut, "package.json") {
		t.Errorf("stdout %q, stderr %q: want a clean scan and package.json named as skipped", out, errOut)
	}
}
