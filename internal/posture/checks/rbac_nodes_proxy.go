package checks

// CIS Kubernetes Benchmark 5.1.10: "Minimize access to the proxy
// sub-resource of nodes. Users with access to the Proxy sub-resource of
// Node objects automatically have permissions to use the Kubelet API,
// which may allow for privilege escalation or bypass cluster security
// controls such as audit logs."
//
// Nodes are cluster-scoped and a Role grants only within its namespace, so
// from behaviour version 7 only ClusterRoles are judged: a Role naming
// nodes/proxy grants nothing (a SubjectAccessReview denies it,
// TestRBACWriteChecksAgreeWithAPIServer), as rbac-pv-create judges
// PersistentVolumes. Versions 1–6 reported such Roles too.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// nodesProxyGrants is the evaluation of rbac-nodes-proxy at level.
func nodesProxyGrants(level exemption) func(*posture.Input) []posture.Result {
	return roleGrants("access to nodes/proxy", level,
		grant{group: "", resources: []string{"nodes/proxy"}, verbs: []string{"get", "create", "update", "patch", "delete", "list", "watch"}},
	)
}

// clusterRolesOnly restricts eval to ClusterRoles, for checks about
// cluster-scoped resources, which a Role cannot grant.
func clusterRolesOnly(eval func(*posture.Input) []posture.Result) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		if in.Object.Ref.Kind != "ClusterRole" {
			return nil
		}
		return eval(in)
	}
}

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
		Versions: append(rbacVersions(nodesProxyGrants), posture.Versioned{
			MinVersion: 7, Eval: clusterRolesOnly(nodesProxyGrants(exactRules)),
		}),
	}
}
