package posture_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
)

// TestScanLargeInventory runs every check over enough workloads and
// ConfigMaps and Roles that their evaluation is spread over goroutines (run it with
// -race), and checks that each scan gives the same outcome, in the same
// order, with one finding per privileged Deployment.
func TestScanLargeInventory(t *testing.T) {
	var b strings.Builder
	const n = 300
	for i := range n {
		fmt.Fprintf(&b, `apiVersion: apps/v1
kind: Deployment
metadata: {name: app-%[1]d, namespace: team-%[2]d}
spec:
  selector: {matchLabels: {app: app-%[1]d}}
  template:
    metadata: {labels: {app: app-%[1]d}}
    spec:
      containers:
      - name: app
        image: registry.example/app:%[1]d
        env: [{name: API_TOKEN, value: tok-%[1]d-abcdef}]
        securityContext: {privileged: %[3]v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-%[1]d, namespace: team-%[2]d}
data: {password: hunter-%[1]d, mode: fast}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: app-%[1]d, namespace: team-%[2]d}
rules: [{apiGroups: [""], resources: [secrets, pods/exec], verbs: [get, create]}]
---
`, i, i%7, i%3 == 0)
	}
	objs, err := kube.Decode(t.Context(), "large.yaml", []byte(b.String()), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	m, err := compliance.Load()
	if err != nil {
		t.Fatal(err)
	}
	sc := posture.NewScanner(reg, m.ControlsOf)
	inv := kube.NewInventory(objs)
	first, err := sc.Scan(t.Context(), inv, posture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	privileged := 0
	for _, f := range first.Findings {
		if f.RuleID == "posture/privileged" {
			privileged++
		}
	}
	if want := (n + 2) / 3; privileged != want {
		t.Errorf("%d privileged findings, want %d", privileged, want)
	}
	for range 3 {
		again, err := sc.Scan(t.Context(), inv, posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Fatalf("scans differ (-first +again):\n%s", diff)
		}
	}
}
