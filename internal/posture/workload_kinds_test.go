package posture

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/kube"
)

// TestCustomWorkloadsByPin checks that Agent Sandbox pod templates are
// workloads from behaviour version 8 only, for workload and inventory
// checks alike, and that a Sandbox's own Pod is then judged at the
// Sandbox rather than twice.
func TestCustomWorkloadsByPin(t *testing.T) {
	const docs = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {template: {spec: {containers: [{name: app, image: "web:1"}]}}}
---
apiVersion: agents.x-k8s.io/v1beta1
kind: Sandbox
metadata: {name: agent, namespace: shop}
spec: {podTemplate: {spec: {containers: [{name: agent, image: "agent:1"}]}}}
---
apiVersion: extensions.agents.x-k8s.io/v1beta1
kind: SandboxTemplate
metadata: {name: coder, namespace: shop}
spec: {podTemplate: {spec: {containers: [{name: agent, image: "agent:1"}]}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: agent
  namespace: shop
  ownerReferences: [{apiVersion: agents.x-k8s.io/v1beta1, kind: Sandbox, name: agent, uid: u1, controller: true}]
spec: {containers: [{name: agent, image: "agent:1"}]}
`
	objs, err := kube.Decode(t.Context(), "s.yaml", []byte(docs), kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	inv := kube.NewInventory(objs)
	workload := testCheck("workloads", Versioned{MinVersion: 1, Eval: func(in *Input) []Result {
		return []Result{{Message: in.Object.Ref.String()}}
	}})
	workload.Scope, workload.Kinds = ScopeWorkload, nil
	inventory := testCheck("inventory", Versioned{MinVersion: 1, Eval: func(in *Input) []Result {
		var out []Result
		for _, w := range in.Inventory.Workloads {
			out = append(out, Result{Object: w.Object, Message: w.Object.Ref.String()})
		}
		return out
	}})
	inventory.Scope, inventory.Kinds = ScopeInventory, nil
	for _, tc := range []struct {
		pin  Version
		want []string
	}{
		{Latest, []string{"Deployment/shop/web", "Sandbox/shop/agent", "SandboxTemplate/shop/coder"}},
		{8, []string{"Deployment/shop/web", "Sandbox/shop/agent", "SandboxTemplate/shop/coder"}},
		{7, []string{"Deployment/shop/web", "Pod/shop/agent"}},
	} {
		reg, err := NewRegistry([]Check{workload, inventory}, tc.pin)
		if err != nil {
			t.Fatal(err)
		}
		out, err := NewScanner(reg, nil).Scan(t.Context(), inv, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, f := range out.Findings {
			got[f.RuleID] = append(got[f.RuleID], f.Resource.Kind+"/"+f.Resource.Namespace+"/"+f.Resource.Name)
		}
		for rule, objs := range got {
			slices.Sort(objs)
			if diff := cmp.Diff(tc.want, objs); diff != "" {
				t.Errorf("pin %d, %s (-want +got):\n%s", tc.pin, rule, diff)
			}
		}
		if len(got) != 2 {
			t.Errorf("pin %d: findings of %d checks, want 2", tc.pin, len(got))
		}
	}
	if len(inv.Workloads) != 4 {
		t.Errorf("the scans changed the inventory: %d workloads, want 4", len(inv.Workloads))
	}
}
