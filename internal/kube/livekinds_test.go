package kube

import "testing"

func TestLiveKindsResources(t *testing.T) {
	want := map[string]string{
		"Namespace": "namespaces", "Pod": "pods", "NetworkPolicy": "networkpolicies", "Ingress": "ingresses",
		"ClusterRoleBinding": "clusterrolebindings", "ReplicationController": "replicationcontrollers",
		"LimitRange": "limitranges", "ConfigMap": "configmaps",
	}
	seen := 0
	for _, k := range LiveKinds() {
		if w, ok := want[k.GVK.Kind]; ok {
			seen++
			if k.Resource != w {
				t.Errorf("%s: resource %q, want %q", k.GVK.Kind, k.Resource, w)
			}
		}
		if k.GVK.Kind == "Secret" {
			t.Error("live kinds include Secrets")
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of %d expected kinds", seen, len(want))
	}
}
