package checks

// CIS Kubernetes Benchmark 5.1.9: "Minimize access to create persistent
// volumes. The ability to create persistent volumes in a cluster can
// provide an opportunity for privilege escalation, via the creation of
// hostPath volumes. As persistent volumes are not covered by Pod Security
// Admission, a user creating persistent volumes may be able to get access
// to sensitive files from the underlying host even where restrictive Pod
// Security Admission policies are in place."
//
// PersistentVolumes are cluster-scoped, and a Role grants only within its
// namespace, so only ClusterRoles are judged: a Role naming
// persistentvolumes grants nothing.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACPVCreate reports ClusterRoles that can create PersistentVolumes.
func RBACPVCreate() posture.Check {
	return posture.Check{
		ID:          "rbac-pv-create",
		Title:       "Role can create persistent volumes",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "rbac",
		Rationale:   "A PersistentVolume may be a hostPath on the node; Pod Security admission judges pods, not volumes, so a claim on it mounts the node's files in a pod that passes baseline.",
		Remediation: "Remove create on persistentvolumes; let a StorageClass provisioner create volumes from claims.",
		Scope:       posture.ScopeObject,
		Kinds:       []string{"ClusterRole"},
		// New in behaviour version 4: scans pinned to 1, 2 or 3 leave it out.
		Versions: rbacVersionsSince4(func(level exemption) func(*posture.Input) []posture.Result {
			return roleGrants("creation of persistent volumes", level,
				// A create request carries no name, so a rule limited by
				// resourceNames cannot create any.
				grant{group: "", resources: []string{"persistentvolumes"}, verbs: []string{"create"}, anyName: true},
			)
		}),
	}
}
