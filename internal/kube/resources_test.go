package kube

import (
	"strings"
	"testing"
)

// TestBuiltinResourcesTable checks the table's own consistency: resources
// are lowercase plurals of their kind, and every live kind is in it.
func TestBuiltinResourcesTable(t *testing.T) {
	for g, kinds := range builtinResources {
		for kind, res := range kinds {
			if res != strings.ToLower(res) || !strings.HasSuffix(res, "s") || !strings.HasPrefix(res, strings.ToLower(kind[:1])) {
				t.Errorf("%s/%s → %q does not look like its resource", g, kind, res)
			}
		}
	}
	for _, lk := range liveKinds() {
		if got := BuiltinResources(lk.Group, lk.Kind); len(got) != 1 {
			t.Errorf("live kind %s: built-in resources %v, want exactly one", lk, got)
		}
	}
}
