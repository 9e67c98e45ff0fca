package checks

// CIS Kubernetes Benchmark 5.1.10: "Minimize access to the proxy
// sub-resource of nodes. Users with access to the Proxy sub-resource of
// Node objects automatically have permissions to use the Kubelet API,
// which may allow for privilege escalation or bypass cluster security
// controls such as audit logs."

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACNodesProxy reports roles with access to nodes/proxy.
func RBACNodesProxy() posture.Check {
	return posture.Check{
		ID:          "rbac-nodes-proxy",
		Title:       "Role can use the nodes/proxy subresource",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "rbac",
		Rationale:   "nodes/proxy reaches the kubelet API, which runs commands in any pod of the node without an audit trail in the API server.",
		Remediation: "Remove access to nodes/proxy; monitoring agents need nodes/metrics or nodes/stats only.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		Versions: rbacVersions(func(level exemption) func(*posture.Input) []posture.Result {
			return roleGrants("access to nodes/proxy", level,
				grant{group: "", resources: []string{"nodes/proxy"}, verbs: []string{"get", "create", "update", "patch", "delete", "list", "watch"}},
			)
		}),
	}
}
