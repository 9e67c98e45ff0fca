package kube

import (
	"maps"
	"testing"
)

func TestUnlistedKinds(t *testing.T) {
	got := UnlistedKinds([]string{"ConfigMap", "CiliumNetworkPolicy.cilium.io", "Deployment (not synced)"})
	want := map[string]bool{"ConfigMap": true, "CiliumNetworkPolicy": true, "Deployment": true}
	if !maps.Equal(got, want) {
		t.Errorf("UnlistedKinds = %v, want %v", got, want)
	}
	// A failed discovery hides every custom kind a scan reads: checks that
	// judge their absence (Cilium policies isolating pods) must not run.
	got = UnlistedKinds([]string{"ConfigMap", UndiscoveredKinds})
	for _, k := range append(CRDKinds(), CRDKind{Kind: "ConfigMap"}) {
		if !got[k.Kind] {
			t.Errorf("UnlistedKinds after a failed discovery lacks %s: %v", k.Kind, got)
		}
	}
	if got["custom"] {
		t.Errorf("UnlistedKinds names a kind \"custom\": %v", got)
	}
	if UnlistedKinds(nil) != nil {
		t.Error("no names: want nil")
	}
}
