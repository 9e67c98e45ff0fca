package finding

import (
	"cmp"
	"slices"
)

// Coverage says what a scan evaluated, not only what failed: a check that
// ran over 40 Deployments and flagged 3 passed on 37. Scores and the JUnit
// and HTML reports need the passes; scanners that cannot count them leave
// Coverage nil and those outputs show failures only.
type Coverage struct {
	Rules []RuleCoverage `json:"rules"`
}

// RuleCoverage is one rule's evaluations.
type RuleCoverage struct {
	RuleID   string    `json:"ruleId"`
	Title    string    `json:"title"`
	Severity Severity  `json:"severity"`
	Controls []Control `json:"controls,omitempty"`
	// Scopes count the resources the rule evaluated per cluster and
	// namespace ("" for cluster-scoped resources and manifests without one).
	Scopes []ScopeCount `json:"scopes,omitempty"`
}

// ScopeCount is how many resources of one cluster and namespace a rule
// evaluated.
type ScopeCount struct {
	Cluster   string `json:"cluster,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Evaluated int    `json:"evaluated"`
}

// Scope names a cluster and namespace.
type Scope struct{ Cluster, Namespace string }

// CoverageBuilder counts evaluations as a scanner runs.
type CoverageBuilder struct {
	rules map[string]*RuleCoverage
	count map[string]map[Scope]int
	order []string
}

// Rule registers a rule before its evaluations are counted; registering it
// again is harmless.
func (b *CoverageBuilder) Rule(id, title string, sev Severity, controls []Control) {
	if b.rules == nil {
		b.rules, b.count = map[string]*RuleCoverage{}, map[string]map[Scope]int{}
	}
	if _, ok := b.rules[id]; ok {
		return
	}
	b.rules[id] = &RuleCoverage{RuleID: id, Title: title, Severity: sev, Controls: controls}
	b.count[id] = map[Scope]int{}
	b.order = append(b.order, id)
}

// Evaluated counts one evaluation of rule id on a resource in s.
func (b *CoverageBuilder) Evaluated(id string, s Scope) { b.EvaluatedN(id, s, 1) }

// EvaluatedN counts n evaluations of rule id on resources in s.
func (b *CoverageBuilder) EvaluatedN(id string, s Scope, n int) {
	if m := b.count[id]; m != nil {
		m[s] += n
	}
}

// Build returns the coverage, rules in registration order and scopes
// sorted, or nil when no rule was registered.
func (b *CoverageBuilder) Build() *Coverage {
	if len(b.order) == 0 {
		return nil
	}
	c := &Coverage{Rules: make([]RuleCoverage, 0, len(b.order))}
	for _, id := range b.order {
		rc := *b.rules[id]
		for s, n := range b.count[id] {
			rc.Scopes = append(rc.Scopes, ScopeCount{Cluster: s.Cluster, Namespace: s.Namespace, Evaluated: n})
		}
		slices.SortFunc(rc.Scopes, func(a, b ScopeCount) int {
			return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace))
		})
		c.Rules = append(c.Rules, rc)
	}
	return c
}

// Evaluated returns how many resources the rule evaluated in total.
func (rc *RuleCoverage) Evaluated() int {
	n := 0
	for _, s := range rc.Scopes {
		n += s.Evaluated
	}
	return n
}
