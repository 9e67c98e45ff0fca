package checks

// NSA/CISA Kubernetes Hardening Guide, "Resource policies": "LimitRange
// policies ... constrain the resources of each pod or container in a
// namespace" and give defaults to containers that set none.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// NamespaceLimitRange reports declared namespaces without a LimitRange.
func NamespaceLimitRange() posture.Check {
	return posture.Check{
		ID:          "namespace-limit-range",
		Title:       "Namespace has no LimitRange",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "namespace",
		Rationale:   "Without a LimitRange, containers that set no requests or limits run unbounded.",
		Remediation: "Add a LimitRange with default requests and limits for containers.",
		Scope:       posture.ScopeInventory,
		Versions: v1(func(in *posture.Input) []posture.Result {
			var out []posture.Result
			for _, ns := range userNamespaces(in) {
				if hasInNamespace(in.Inventory, "LimitRange", ns.Ref.Name) {
					continue
				}
				out = append(out, posture.Result{Object: ns,
					Message:  "Namespace " + ns.Ref.Name + " has no LimitRange.",
					Evidence: []finding.Evidence{key("missing", "LimitRange")}})
			}
			return out
		}),
	}
}
