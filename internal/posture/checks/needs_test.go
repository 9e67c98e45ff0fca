package checks_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestChecksNeedListedKinds: a check that reads the absence of a kind as a
// problem is not evaluated on a live inventory that could not list that
// kind, and the outcome says so; other checks still run.
func TestChecksNeedListedKinds(t *testing.T) {
	const doc = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers: [{name: app, image: registry.example.com/web:1}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{port: 80}]
`
	objs, err := kube.Decode(t.Context(), "d.yaml", []byte(doc), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"network-pod-isolation", "missing-service-account", "dangling-service", "privileged"}
	for _, tc := range []struct {
		unlisted map[string]bool
		blind    []string // checks not evaluated
	}{
		{nil, nil},
		{map[string]bool{"NetworkPolicy": true}, []string{"network-pod-isolation"}},
		{map[string]bool{"ServiceAccount": true, "Pod": true}, []string{"dangling-service", "missing-service-account"}},
	} {
		inv := kube.NewInventory(objs)
		inv.Unlisted = tc.unlisted
		out, err := posture.NewScanner(reg.Only(ids...), nil).Scan(t.Context(), inv, posture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fired := map[string]bool{}
		for _, f := range out.Findings {
			fired[strings.TrimPrefix(f.RuleID, posture.RulePrefix)] = true
		}
		var warned []string
		for _, w := range out.Warnings {
			for _, id := range ids {
				if strings.HasPrefix(w, "check "+id+" not evaluated") {
					warned = append(warned, id)
				}
			}
		}
		slices.Sort(warned)
		if !slices.Equal(warned, tc.blind) {
			t.Errorf("unlisted %v: warned of %q, want %q (warnings %q)", tc.unlisted, warned, tc.blind, out.Warnings)
		}
		for _, id := range ids[:3] {
			if want := !slices.Contains(tc.blind, id); fired[id] != want {
				t.Errorf("unlisted %v: %s reported %v, want %v", tc.unlisted, id, fired[id], want)
			}
		}
	}
}
