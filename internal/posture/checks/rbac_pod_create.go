package checks

// CIS Kubernetes Benchmark 5.1.4: "Minimize access to create pods. The
// ability to create pods in a namespace can provide a number of
// opportunities for privilege escalation, such as assigning privileged
// service accounts to these pods or mounting hostPaths with access to
// sensitive data." Creating any workload controller counts too, and (from
// version 3) updating or patching one: a new pod template is a new pod.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACPodCreate reports roles that can create pods or workloads, or (from
// version 3) change what they run.
func RBACPodCreate() posture.Check {
	return posture.Check{
		ID:          "rbac-pod-create",
		Title:       "Role can create or change pods",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "rbac",
		Rationale:   "Whoever can create a pod can run it as any service account of the namespace and mount its secrets.",
		Remediation: "Grant create, update and patch on pods and workload kinds only to deployment pipelines and controllers.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: roleGrants("creation of pods", exemptSystemNames, podCreate()...)},
			// Version 3: changing a workload's pod template (or a pod's
			// image) runs new code under the workload's service account just
			// as creating one does, and builtIn stops trusting system: names in
			// ordinary namespaces. Version 4: only the bootstrap label counts.
			{MinVersion: 3, Eval: roleGrants("creation or change of pods", exemptSystemNamespaces, append(podCreate(), podChange()...)...)},
			{MinVersion: 4, Eval: roleGrants("creation or change of pods", exemptLabelled, append(podCreate(), podChange()...)...)},
			// Version 5: rules match as the API server matches them (exactRules).
			{MinVersion: 5, Eval: roleGrants("creation or change of pods", exactRules, append(podCreate(), podChange()...)...)},
		},
	}
}

// podCreate returns the grants of creating pods directly or through a workload controller.
func podCreate() []grant {
	return []grant{
		{group: "", resources: []string{"pods", "replicationcontrollers"}, verbs: []string{"create"}},
		{group: "apps", resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets"}, verbs: []string{"create"}},
		{group: "batch", resources: []string{"jobs", "cronjobs"}, verbs: []string{"create"}},
	}
}

// podChange returns the grants of changing what existing pods and controllers run.
func podChange() []grant {
	return []grant{
		{group: "", resources: []string{"pods", "replicationcontrollers"}, verbs: []string{"update", "patch"}},
		{group: "apps", resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets"}, verbs: []string{"update", "patch"}},
		{group: "batch", resources: []string{"jobs", "cronjobs"}, verbs: []string{"update", "patch"}},
	}
}
