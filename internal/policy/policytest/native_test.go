package policytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/config"
)

const nativeManifests = `apiVersion: v1
kind: Pod
metadata: {name: calm, namespace: shop}
spec:
  containers: [{name: app, image: "ghcr.io/acme/app:1.2"}]
---
apiVersion: v1
kind: Pod
metadata: {name: priv, namespace: shop}
spec:
  containers: [{name: app, image: "ghcr.io/acme/app:1.2", securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: miner, namespace: shop}
spec:
  selector: {matchLabels: {app: miner}}
  template:
    metadata: {labels: {app: miner}}
    spec:
      containers: [{name: m, image: "quay.io/evil/miner:1"}]
---
apiVersion: v1
kind: Pod
metadata: {name: floating, namespace: shop}
spec:
  containers: [{name: app, image: "ghcr.io/acme/app:latest"}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{port: 80}]
`

// TestNativePolicies checks that suites can name the webhook's own
// policies, judged by the engine the webhook runs: Pod Security at a level
// and image trust's registry and tag rules, in the configured modes.
func TestNativePolicies(t *testing.T) {
	dir := t.TempDir()
	suite := `apiVersion: palisade.dev/v1alpha1
kind: PolicyTest
resources: [m.yaml]
modes: {admission/pod-security-restricted: warn}
results:
  - {policy: admission/pod-security-baseline, resources: [calm], result: pass}
  - {policy: admission/pod-security-baseline, resources: [priv], result: fail}
  - {policy: admission/pod-security-baseline, resources: [web], result: skip}
  - {policy: admission/pod-security-restricted, resources: [calm], result: warn}
  - {policy: admission/image-trust, resources: [calm, priv], result: pass}
  - {policy: admission/image-trust, resources: [miner, floating], result: fail}
`
	for name, data := range map[string]string{FileName: suite, "m.yaml": nativeManifests} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := ReadSuite(dir)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := Run(t.Context(), s, Options{Registries: config.Registries{Trusted: []string{"ghcr.io/acme/*"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 8 {
		t.Fatalf("%d outcomes, want 8: %+v", len(outs), outs)
	}
	for _, o := range outs {
		if !o.OK {
			t.Errorf("%s on %s: got %s, want %s %q", o.Policy, o.Resource, o.Got, o.Expected, o.Messages)
		}
	}
	if msg := strings.Join(outs[7].Messages, " "); !strings.Contains(msg, "mutable latest tag") {
		t.Errorf("latest-tag denial %q", msg)
	}

	s.Results[0].Policy = "admission/no-such"
	if _, err := Run(t.Context(), s, Options{}); err == nil || !strings.Contains(err.Error(), `no policy "admission/no-such"`) {
		t.Errorf("unknown policy: err = %v", err)
	}
}
