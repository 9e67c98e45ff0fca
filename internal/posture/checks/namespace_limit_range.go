package checks

// NSA/CISA Kubernetes Hardening Guide, "Resource policies": "LimitRange
// policies ... constrain the resources of each pod or container in a
// namespace" and give defaults to containers that set none. From
// behaviour version 4 a LimitRange that bounds no container cpu or memory
// (say, one limiting only PVC storage) no longer counts: the finding names
// what it leaves unbounded (namespace_limits_content.go).

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// NamespaceLimitRange reports declared namespaces without a LimitRange and,
// from version 4, LimitRanges that leave container cpu or memory unbounded.
func NamespaceLimitRange() posture.Check {
	return posture.Check{
		ID:          "namespace-limit-range",
		Title:       "Namespace has no LimitRange bounding containers",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "namespace",
		Rationale:   "Without a LimitRange giving containers default or maximum cpu and memory limits, containers that set none run unbounded.",
		Remediation: "Add a LimitRange with default requests and limits for containers.",
		Scope:       posture.ScopeInventory,
		Needs:       []string{"LimitRange"},
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: limitRangeMissing},
			{MinVersion: 4, Eval: func(in *posture.Input) []posture.Result {
				return append(limitRangeMissing(in), incompleteBounds(in, "LimitRange", limitRangeGaps, "bounds no container limit for")...)
			}},
		},
	}
}

// limitRangeMissing reports declared namespaces without a LimitRange.
func limitRangeMissing(in *posture.Input) []posture.Result {
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
}
