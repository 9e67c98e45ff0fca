package checks

// NSA/CISA Kubernetes Hardening Guide, "Resource policies": "Administrators
// should ... use ResourceQuotas to limit a namespace's aggregate resource
// use." CIS Kubernetes Benchmark 5.7.1: "Create administrative boundaries
// between resources using namespaces."

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// NamespaceResourceQuota reports declared namespaces without a ResourceQuota.
func NamespaceResourceQuota() posture.Check {
	return posture.Check{
		ID:          "namespace-resource-quota",
		Title:       "Namespace has no ResourceQuota",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "namespace",
		Rationale:   "Without a quota one namespace can consume the cluster's capacity.",
		Remediation: "Add a ResourceQuota for cpu, memory and object counts to the namespace.",
		Scope:       posture.ScopeInventory,
		Versions: v1(func(in *posture.Input) []posture.Result {
			var out []posture.Result
			for _, ns := range userNamespaces(in) {
				if hasInNamespace(in.Inventory, "ResourceQuota", ns.Ref.Name) {
					continue
				}
				out = append(out, posture.Result{Object: ns,
					Message:  "Namespace " + ns.Ref.Name + " has no ResourceQuota.",
					Evidence: []finding.Evidence{key("missing", "ResourceQuota")}})
			}
			return out
		}),
	}
}
