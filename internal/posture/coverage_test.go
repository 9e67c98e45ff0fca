package posture_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
)

const coverageManifests = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: registry.example/api:1
        securityContext: {privileged: true}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: registry.example/web:1}
---
apiVersion: v1
kind: Pod
metadata: {name: job, namespace: batch}
spec:
  containers:
  - {name: job, image: registry.example/job:1}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: batch}
spec:
  podSelector: {}
  policyTypes: [Ingress]
`

// TestCoverage checks that a scan counts what each check evaluated per
// namespace, and that the scores computed from it match the failures.
func TestCoverage(t *testing.T) {
	objs, err := kube.Decode(context.Background(), "m.yaml", []byte(coverageManifests), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	full, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	mapping, err := compliance.Load()
	if err != nil {
		t.Fatal(err)
	}
	reg := full.Only("privileged", "network-default-deny")
	out, err := posture.NewScanner(reg, mapping.ControlsOf).Scan(context.Background(), kube.NewInventory(objs), posture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]finding.ScopeCount{}
	for _, rc := range out.Coverage.Rules {
		got[rc.RuleID] = rc.Scopes
	}
	want := map[string][]finding.ScopeCount{
		"posture/privileged":           {{Namespace: "batch", Evaluated: 1}, {Namespace: "shop", Evaluated: 2}},
		"posture/network-default-deny": {{Namespace: "batch", Evaluated: 1}, {Namespace: "shop", Evaluated: 1}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("coverage (-want +got):\n%s", diff)
	}
	r := finding.NewReport(finding.Tool{Name: "palisade"}, "m.yaml", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), out.Findings)
	r.Coverage = out.Coverage
	s := finding.ComputeScores(r)
	ns := map[string]finding.ScopeScore{}
	for _, x := range s.Namespaces {
		ns[x.Namespace] = x
	}
	// batch passes both checks; shop fails default-deny (its only
	// evaluation) and privileged on one of two Deployments.
	if b := ns["batch"]; b.Score != 100 || b.Failed != 0 || b.Evaluated != 2 {
		t.Errorf("batch: %+v, want 100%% over 2 evaluations", b)
	}
	if sh := ns["shop"]; sh.Failed != 2 || sh.Evaluated != 3 || sh.Score >= 50 {
		t.Errorf("shop: %+v, want 2 of 3 failed and a score below 50", sh)
	}
	if len(s.Frameworks) == 0 {
		t.Error("no framework scores: the checks' controls were not carried into coverage")
	}
}
