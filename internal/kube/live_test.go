package kube

import (
	"maps"
	"testing"
)

func TestUnlistedKinds(t *testing.T) {
	got := UnlistedKinds([]string{"ConfigMap", "CiliumNetworkPolicy.cilium.io", "Deployment (not synced)", "custom resources (API discovery failed)"})
	want := map[string]bool{"ConfigMap": true, "CiliumNetworkPolicy": true, "Deployment": true, "custom": true}
	if !maps.Equal(got, want) {
		t.Errorf("UnlistedKinds = %v, want %v", got, want)
	}
	if UnlistedKinds(nil) != nil {
		t.Error("no names: want nil")
	}
}
