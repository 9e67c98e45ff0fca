package checks_test

import (
	"testing"

	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// TestRBACWriteChecksPinned checks that the RBAC checks new in behaviour
// version 4 stay out of scans pinned to 3, so pinned policies do not move,
// and take part from 4 on.
func TestRBACWriteChecksPinned(t *testing.T) {
	for _, id := range []string{"rbac-secrets-write", "rbac-configmaps-write", "rbac-network-write", "rbac-destructive-delete", "rbac-pv-create"} {
		t.Run(id, func(t *testing.T) {
			for _, tc := range []struct {
				pin  posture.Version
				want bool
			}{{3, false}, {4, true}, {posture.Latest, true}} {
				reg, err := posture.NewRegistry(checks.All(), tc.pin)
				if err != nil {
					t.Fatal(err)
				}
				if got := reg.Check(id) != nil; got != tc.want {
					t.Errorf("pinned to %d: in the registry %v, want %v", tc.pin, got, tc.want)
				}
			}
		})
	}
}
