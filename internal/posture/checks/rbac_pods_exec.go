package checks

// MITRE ATT&CK for Containers T1609 (Container Administration Command):
// "Adversaries may abuse a container administration service to execute
// commands within a container", such as kubectl exec, which needs create
// (or get, over a WebSocket upgrade) on pods/exec or pods/attach.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACPodsExec reports roles that can exec into or attach to pods.
func RBACPodsExec() posture.Check {
	return posture.Check{
		ID:          "rbac-pods-exec",
		Title:       "Role can exec into pods",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "rbac",
		Rationale:   "exec and attach run commands inside containers, with their service account tokens and mounted secrets.",
		Remediation: "Remove create and get on pods/exec and pods/attach from roles that do not need an interactive shell.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		Versions: rbacVersions(func(level exemption) func(*posture.Input) []posture.Result {
			return roleGrants("exec into pods", level,
				grant{group: "", resources: []string{"pods/exec", "pods/attach"}, verbs: []string{"create", "get"}},
			)
		}),
	}
}
