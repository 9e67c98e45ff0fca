package checks

// MITRE ATT&CK for Containers T1485 (Data Destruction) and T1070
// (Indicator Removal): whoever may delete workloads, their Services and
// Secrets can take an application down, and deleting a pod also removes
// its container logs from the node unless they were shipped elsewhere.
// Deleting a Namespace deletes everything in it, and deleting a
// PersistentVolumeClaim or PersistentVolume (reclaim policy Delete)
// destroys the data on it: those rules are reported as medium, the others
// as low. Kubescape rule-excessive-delete-rights-v1 ("Roles with delete
// capabilities") judges the same resources less the volumes and
// namespaces.
//
// Trivy KSV042 asks the same of delete on pods/log, which is not an
// operation the API server serves (pods/log answers get only); logs go
// with the pod, which this check covers.
//
// A rule limited by resourceNames is left out: it deletes only the objects
// it names.

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// deleteVerbs remove one object or a whole collection.
var deleteVerbs = []string{"delete", "deletecollection"}

// RBACDestructiveDelete reports roles that can delete workloads, their
// Services and Secrets, volumes or namespaces.
func RBACDestructiveDelete() posture.Check {
	del := func(group string, resources ...string) grant {
		return grant{group: group, resources: resources, verbs: deleteVerbs, anyName: true}
	}
	// A Role grants nothing on cluster-scoped PersistentVolumes; on
	// namespaces it grants its own (a namespace's requests are in itself).
	nsData := del("", "namespaces", "persistentvolumeclaims")
	pvs := del("", "persistentvolumes")
	workloads := []grant{
		del("", "pods", "services", "secrets", "replicationcontrollers"),
		del("apps", "deployments", "replicasets", "daemonsets", "statefulsets"),
		del("batch", "jobs", "cronjobs"),
	}
	return posture.Check{
		ID:          "rbac-destructive-delete",
		Title:       "Role can delete workloads, volumes or namespaces",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "rbac",
		Rationale:   "Deleting workloads, Services and Secrets takes applications down and removes pod logs; deleting namespaces or volumes destroys data.",
		Remediation: "Grant delete and deletecollection only to the deployers and controllers that own the objects; keep delete on namespaces, persistentvolumes and persistentvolumeclaims for administrators.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		// New in behaviour version 4: scans pinned to 1, 2 or 3 leave it out.
		Versions: rbacVersionsSince4(func(level exemption) func(*posture.Input) []posture.Result {
			return func(in *posture.Input) []posture.Result {
				data := []grant{nsData}
				if in.Object.Ref.Kind == "ClusterRole" {
					data = append(data, pvs)
				}
				return grantingRules(in, level, append(data, workloads...), func(i int, rule rbacv1.PolicyRule) posture.Result {
					if slices.ContainsFunc(data, func(g grant) bool { return g.matches(rule, level) }) {
						r := grantResult(in.Object, i, rule, "deletion of namespaces or volumes")
						r.Severity = finding.SeverityMedium
						return r
					}
					return grantResult(in.Object, i, rule, "deletion of workloads, Services or Secrets")
				})
			}
		}),
	}
}
