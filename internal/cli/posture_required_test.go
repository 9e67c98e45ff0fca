package cli

import (
	"strings"
	"testing"
)

// TestPostureScanRequiredMetadata: posture.requiredLabels and
// requiredAnnotations in the configuration reach required-metadata in
// posture scan; without them the check reports nothing.
func TestPostureScanRequiredMetadata(t *testing.T) {
	pod := writeTemp(t, "pod.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: shop
  annotations: {example.com/contact: shop-team}
spec:
  containers:
  - {name: api, image: registry.example.com/api:1.0.0}
`)
	cfg := writeTemp(t, "palisade.yaml", "posture:\n  requiredLabels:\n  - {key: owner}\n  requiredAnnotations:\n  - {key: example.com/contact, value: '[^@]+@example\\.com'}\n")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"not configured", []string{"posture", "scan", "-o", "json", "--fail-on", "none", pod}, nil},
		{"configured", []string{"--config", cfg, "posture", "scan", "-o", "json", "--fail-on", "none", pod},
			[]string{"has no label owner", `annotation example.com/contact is "shop-team"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, tc.args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var got []string
			for _, f := range decodeReport(t, out).Findings {
				if f.RuleID == "posture/required-metadata" {
					got = append(got, f.Message)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("required-metadata findings %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("finding %d %q lacks %q", i, got[i], w)
				}
			}
		})
	}
}
