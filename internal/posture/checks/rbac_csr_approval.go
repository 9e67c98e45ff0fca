package checks

// CIS Kubernetes Benchmark 5.1.11: "Minimize access to the approval
// sub-resource of certificatesigningrequests objects. Users with access to
// the update the approval sub-resource of certificateaigningrequest objects
// can approve new client certificates for the Kubernetes API effectively
// allowing them to create new high-privileged user accounts."

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACCSRApproval reports roles that can approve certificate signing requests.
func RBACCSRApproval() posture.Check {
	return posture.Check{
		ID:          "rbac-csr-approval",
		Title:       "Role can approve certificate signing requests",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "rbac",
		Rationale:   "Approving a CSR issues a client certificate for any user or group name, such as system:masters.",
		Remediation: "Remove update and patch on certificatesigningrequests/approval and approve on signers.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		Versions: rbacVersions(func(level exemption) func(*posture.Input) []posture.Result {
			return roleGrants("approval of certificate signing requests", level,
				grant{group: "certificates.k8s.io", resources: []string{"certificatesigningrequests/approval"}, verbs: []string{"update", "patch"}},
				grant{group: "certificates.k8s.io", resources: []string{"signers"}, verbs: []string{"approve"}},
			)
		}),
	}
}
