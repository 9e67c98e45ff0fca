package checks

// NSA/CISA Kubernetes Hardening Guide, "Resource policies": "Administrators
// should ... use ResourceQuotas to limit a namespace's aggregate resource
// use." CIS Kubernetes Benchmark 5.7.1: "Create administrative boundaries
// between resources using namespaces." From behaviour version 4 a quota
// that sets no hard cpu and memory requests and limits (say, one counting
// only objects) no longer counts: the finding names the missing quotas
// (namespace_limits_content.go).

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// NamespaceResourceQuota reports declared namespaces without a ResourceQuota
// and, from version 4, quotas that leave cpu or memory unbounded.
func NamespaceResourceQuota() posture.Check {
	return posture.Check{
		ID:          "namespace-resource-quota",
		Title:       "Namespace has no ResourceQuota on cpu and memory",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "namespace",
		Rationale:   "Without a quota on cpu and memory one namespace can reserve or consume the cluster's capacity.",
		Remediation: "Add a ResourceQuota with hard requests.cpu, requests.memory, limits.cpu and limits.memory (and object counts) to the namespace.",
		Scope:       posture.ScopeInventory,
		Needs:       []string{"ResourceQuota"},
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: resourceQuotaMissing},
			{MinVersion: 4, Eval: func(in *posture.Input) []posture.Result {
				return append(resourceQuotaMissing(in), incompleteBounds(in, "ResourceQuota", resourceQuotaGaps, "sets no hard quota for")...)
			}},
		},
	}
}

// resourceQuotaMissing reports declared namespaces without a ResourceQuota.
func resourceQuotaMissing(in *posture.Input) []posture.Result {
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
}
