package checks_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/posture"
)

// TestWildcardAccessEvidence checks which rbac-wildcard findings carry
// access=full: every read and write verb on every resource of every group
// (Polaris rolebindingClusterAdminRole).
func TestWildcardAccessEvidence(t *testing.T) {
	for _, tc := range []struct {
		file string
		full map[string]bool // "role rule" → has access=full
	}{
		{"star.yaml", map[string]bool{"app-role 0": true}},
		{"every_verb_listed.yaml", map[string]bool{"everything 0": true, "everything 1": false, "everything 2": false}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			fs := scanFixture(t, "rbac-wildcard", "testdata/rbac_wildcard/fail/"+tc.file, posture.Latest)
			got := map[string]bool{}
			for _, f := range fs {
				var rule string
				full := false
				for _, e := range f.Evidence {
					switch {
					case e.Name == "rule":
						rule = e.Value
					case e.Name == "access" && e.Value == "full":
						full = true
					}
				}
				got[f.Resource.Name+" "+rule] = full
			}
			if diff := cmp.Diff(tc.full, got); diff != "" {
				t.Errorf("access=full (-want +got):\n%s", diff)
			}
		})
	}
}
