package deploy

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture/rbac"
)

// TestPostureReaderCoversLiveKinds checks the chart's posture reader
// against what a live scan and continuous posture read: list and watch on
// every built-in live kind and every CRD kind posture reads when installed
// (kube.CRDKinds), and nothing beyond reading on the CRD groups. A kind
// added to a live scan without its grant would be "forbidden" in every
// installed Palisade.
func TestPostureReaderCoversLiveKinds(t *testing.T) {
	var role *rbacv1.ClusterRole
	for _, o := range decodeChart(t, renderChart(t, rel, nil)) {
		if cr, ok := o.Typed.(*rbacv1.ClusterRole); ok && o.Ref.Name == rel.Name+"-posture-reader" {
			role = cr
		}
	}
	if role == nil {
		t.Fatal("the chart renders no posture-reader ClusterRole")
	}
	allows := func(r rbac.Request) bool {
		return slices.ContainsFunc(role.Rules, func(rule rbacv1.PolicyRule) bool { return rbac.RuleAllows(&rule, r) })
	}
	type resource struct{ group, resource string }
	var want []resource
	for _, k := range kube.LiveKinds() {
		want = append(want, resource{k.GVK.Group, k.Resource})
	}
	crdGroups := map[string]bool{}
	for _, k := range kube.CRDKinds() {
		want = append(want, resource{k.Group, k.Resource})
		crdGroups[k.Group] = true
	}
	for _, r := range want {
		for _, verb := range []string{"list", "watch"} {
			if !allows(rbac.Request{Verb: verb, APIGroup: r.group, Resource: r.resource}) {
				t.Errorf("the posture reader may not %s %s.%s", verb, r.resource, r.group)
			}
		}
	}
	for group := range crdGroups {
		for _, verb := range []string{"create", "update", "patch", "delete", "deletecollection"} {
			for _, r := range want {
				if r.group == group && allows(rbac.Request{Verb: verb, APIGroup: group, Resource: r.resource}) {
					t.Errorf("the posture reader may %s %s.%s: it only reads", verb, r.resource, group)
				}
			}
		}
		if allows(rbac.Request{Verb: "list", APIGroup: group, Resource: "somethingelse"}) {
			t.Errorf("the posture reader reads every resource of %s: grant the kinds posture reads", group)
		}
	}
	if allows(rbac.Request{Verb: "list", Resource: "secrets"}) {
		t.Error("the posture reader may list Secrets")
	}
}
