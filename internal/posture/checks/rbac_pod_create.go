package checks

// CIS Kubernetes Benchmark 5.1.4: "Minimize access to create pods. The
// ability to create pods in a namespace can provide a number of
// opportunities for privilege escalation, such as assigning privileged
// service accounts to these pods or mounting hostPaths with access to
// sensitive data." Creating any workload controller counts too.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACPodCreate reports roles that can create pods or workloads.
func RBACPodCreate() posture.Check {
	return posture.Check{
		ID:          "rbac-pod-create",
		Title:       "Role can create pods",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "rbac",
		Rationale:   "Whoever can create a pod can run it as any service account of the namespace and mount its secrets.",
		Remediation: "Grant create on pods and workload kinds only to deployment pipelines and controllers.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		Versions: v1(roleGrants("creation of pods",
			grant{group: "", resources: []string{"pods", "replicationcontrollers"}, verbs: []string{"create"}},
			grant{group: "apps", resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets"}, verbs: []string{"create"}},
			grant{group: "batch", resources: []string{"jobs", "cronjobs"}, verbs: []string{"create"}},
		)),
	}
}
