package cli

import (
	"testing"
)

// TestPostureScanAnnotationSwitch: the palisade.dev/exceptions annotation
// counts by default; posture.annotationExceptions: false in the
// configuration or --no-annotation-exceptions switches it off, and the
// flag, when given, wins over the configuration either way.
func TestPostureScanAnnotationSwitch(t *testing.T) {
	pod := writeTemp(t, "pod.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: agent
  namespace: shop
  annotations:
    palisade.dev/exceptions: "privileged: the CNI agent programs the host network"
spec:
  containers:
  - name: agent
    image: registry.example.com/agent@sha256:0000000000000000000000000000000000000000000000000000000000000000
    securityContext: {privileged: true}
`)
	on := writeTemp(t, "on.yaml", "posture:\n  annotationExceptions: true\n")
	off := writeTemp(t, "off.yaml", "posture:\n  annotationExceptions: false\n")
	for _, tc := range []struct {
		name     string
		args     []string
		excepted bool
	}{
		{"default", nil, true},
		{"flag", []string{"--no-annotation-exceptions"}, false},
		{"config on", []string{"--config", on}, true},
		{"config off", []string{"--config", off}, false},
		{"config on, flag wins", []string{"--config", on, "--no-annotation-exceptions"}, false},
		{"config off, flag wins", []string{"--config", off, "--no-annotation-exceptions=false"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"posture", "scan", "-o", "json", "--fail-on", "none", pod}
			if len(tc.args) > 0 && tc.args[0] == "--config" {
				args = append(tc.args[:2:2], append(args, tc.args[2:]...)...)
			} else {
				args = append(args, tc.args...)
			}
			code, out, errOut := run(t, args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			found := false
			for _, f := range decodeReport(t, out).Findings {
				if f.RuleID != "posture/privileged" {
					continue
				}
				found = true
				if got := !f.Open(); got != tc.excepted {
					t.Errorf("privileged finding excepted = %v, want %v (status %q)", got, tc.excepted, f.Status)
				}
			}
			if !found {
				t.Error("no posture/privileged finding")
			}
		})
	}
}
