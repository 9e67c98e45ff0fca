package checks

// MITRE ATT&CK for Containers T1070 (Indicator Removal): "Adversaries may
// delete or modify artifacts generated within systems to remove evidence
// of their presence." Kubernetes events record pod starts, exec-driven
// restarts and scheduling; whoever may delete them can hide an attack
// from anyone reading events.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACEventsDelete reports roles that can delete Kubernetes events.
func RBACEventsDelete() posture.Check {
	return posture.Check{
		ID:          "rbac-events-delete",
		Title:       "Role can delete events",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "rbac",
		Rationale:   "Deleting events removes the trace of what happened in the cluster; only the event garbage collection in the API server needs it.",
		Remediation: "Remove delete and deletecollection on events (core and events.k8s.io) from roles of users and workloads.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		// New in behaviour version 3: scans pinned to 1 or 2 leave it out.
		Versions: rbacVersionsSince3(func(level exemption) func(*posture.Input) []posture.Result {
			return roleGrants("deletion of events", level,
				grant{group: "", resources: []string{"events"}, verbs: []string{"delete", "deletecollection"}},
				grant{group: "events.k8s.io", resources: []string{"events"}, verbs: []string{"delete", "deletecollection"}},
			)
		}),
	}
}
