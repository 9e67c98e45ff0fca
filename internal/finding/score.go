package finding

import (
	"cmp"
	"maps"
	"math"
	"slices"
)

// Scores summarise a report with coverage as percentages: 100 means every
// evaluated resource passed every rule. A rule scores the share of the
// resources it judged that passed it; a scope (the report, a cluster, a
// namespace) and a control score the mean of their rules' shares, each
// rule weighing by its severity (critical 10, high 6, medium 3, low 1,
// info 0), and a framework the mean of its evaluated controls. So one
// privileged pod of two costs more than missing probes on both, and the
// scores do not depend on how many objects of each kind a cluster holds:
// pooling every rule × resource evaluation (schema 1.3 and before) let the
// hundred passing bootstrap ClusterRoles of any cluster outweigh its
// workloads, and a cluster with a privileged, exposed, cluster-admin pod
// scored 98 %. Excepted findings count as passes: the risk was accepted by
// someone the report names. A score over no evaluation is 100 and means
// nothing: Evaluated says so.
type Scores struct {
	Overall float64 `json:"overall"`
	// Evaluated is the rule × resource evaluations of the whole report
	// (since schema 1.3); 0 when the scan judged nothing.
	Evaluated  int              `json:"evaluated"`
	Clusters   []ScopeScore     `json:"clusters,omitempty"`
	Namespaces []ScopeScore     `json:"namespaces,omitempty"`
	Frameworks []FrameworkScore `json:"frameworks,omitempty"`
}

// ScopeScore is the score of one cluster or namespace.
type ScopeScore struct {
	Cluster   string  `json:"cluster,omitempty"`
	Namespace string  `json:"namespace,omitempty"`
	Score     float64 `json:"score"`
	Evaluated int     `json:"evaluated"` // rule × resource evaluations
	Failed    int     `json:"failed"`
}

// FrameworkScore is the score of one compliance framework and of each of
// its controls that some rule of the scan maps to.
type FrameworkScore struct {
	Framework      string  `json:"framework"`
	Score          float64 `json:"score"`
	ControlsPassed int     `json:"controlsPassed"`
	// ControlsEvaluated counts the controls some resource was judged
	// against (since schema 1.3); the others are NotEvaluated.
	ControlsEvaluated int            `json:"controlsEvaluated"`
	Controls          []ControlScore `json:"controls"`
}

// ControlsNotEvaluated counts the controls no resource was judged against.
func (fs *FrameworkScore) ControlsNotEvaluated() int { return len(fs.Controls) - fs.ControlsEvaluated }

// ControlScore is one control: it passes when its rules judged some
// resource and none failed any of them. A control whose rules judged
// nothing (RBAC controls in a scan of Deployments) is not evaluated rather
// than passed: a report handed to an auditor must not claim a control it
// never looked at.
type ControlScore struct {
	ID           string   `json:"id"`
	Rules        []string `json:"rules"`
	Score        float64  `json:"score"`
	Evaluated    int      `json:"evaluated"`
	Failed       int      `json:"failed"`
	Pass         bool     `json:"pass"`
	NotEvaluated bool     `json:"notEvaluated,omitempty"`
}

func severityWeight(s Severity) float64 {
	switch s {
	case SeverityCritical:
		return 10
	case SeverityHigh:
		return 6
	case SeverityMedium:
		return 3
	case SeverityInfo:
		return 0
	}
	return 1 // low and unrated
}

// ratio counts one rule's evaluations and failures in some scope.
type ratio struct{ eval, failed int }

func (r *ratio) add(eval, failed int) { r.eval, r.failed = r.eval+eval, r.failed+failed }

// mean accumulates the severity-weighted mean of rules' (or controls')
// pass shares, and the evaluations and failures behind them.
type mean struct {
	sum, weight  float64
	eval, failed int
}

// add adds a rule's ratio with weight w; a rule that judged nothing
// there has no share.
func (m *mean) add(r ratio, w float64) {
	if r.eval == 0 {
		return
	}
	m.sum += w * float64(r.eval-r.failed) / float64(r.eval)
	m.weight += w
	m.eval, m.failed = m.eval+r.eval, m.failed+r.failed
}

func (m *mean) score() float64 {
	if m.weight == 0 {
		return 100
	}
	return math.Round(1000*m.sum/m.weight) / 10
}

// ComputeScores scores r from its coverage and open findings, or returns
// nil when r has no coverage.
func ComputeScores(r *Report) *Scores {
	if r.Coverage == nil {
		return nil
	}
	// failing[rule][scope] = distinct resources with an open finding.
	failing := map[string]map[Scope]map[resKey]bool{}
	// Findings come sorted by rule and resource, so most share their rule
	// and scope with the one before: its set is looked up again only when
	// they change.
	var set map[resKey]bool
	var setRule string
	var setScope Scope
	for i := range r.Findings {
		f := &r.Findings[i]
		if !f.Open() {
			continue
		}
		s := Scope{f.Resource.Cluster, f.Resource.Namespace}
		if set == nil || f.RuleID != setRule || s != setScope {
			if failing[f.RuleID] == nil {
				failing[f.RuleID] = map[Scope]map[resKey]bool{}
			}
			if failing[f.RuleID][s] == nil {
				failing[f.RuleID][s] = map[resKey]bool{}
			}
			set, setRule, setScope = failing[f.RuleID][s], f.RuleID, s
		}
		set[resKey{f.Resource.Kind, f.Resource.Name}] = true
	}
	var overall mean
	clusters, namespaces := map[string]*mean{}, map[Scope]*mean{}
	type ctlKey struct{ fw, id string }
	controls := map[ctlKey]*mean{}
	controlRules := map[ctlKey][]string{}
	for _, rc := range r.Coverage.Rules {
		w := severityWeight(rc.Severity)
		var rule ratio
		inCluster := map[string]*ratio{}
		for _, sc := range r.Coverage.scopesOf(rc, failing[rc.RuleID]) {
			s := Scope{sc.Cluster, sc.Namespace}
			failed := min(len(failing[rc.RuleID][s]), sc.Evaluated)
			rule.add(sc.Evaluated, failed)
			getOrNew(inCluster, sc.Cluster).add(sc.Evaluated, failed)
			if sc.Namespace != "" {
				getOrNew(namespaces, s).add(ratio{sc.Evaluated, failed}, w)
			}
		}
		for name, rt := range inCluster {
			getOrNew(clusters, name).add(*rt, w)
		}
		overall.add(rule, w)
		for _, c := range rc.Controls {
			k := ctlKey{c.Framework, c.ID}
			getOrNew(controls, k).add(rule, w)
			controlRules[k] = append(controlRules[k], rc.RuleID)
		}
	}
	out := &Scores{Overall: overall.score(), Evaluated: overall.eval}
	for _, name := range slices.Sorted(maps.Keys(clusters)) {
		m := clusters[name]
		out.Clusters = append(out.Clusters, ScopeScore{Cluster: name, Score: m.score(), Evaluated: m.eval, Failed: m.failed})
	}
	for s, m := range namespaces {
		out.Namespaces = append(out.Namespaces, ScopeScore{Cluster: s.Cluster, Namespace: s.Namespace, Score: m.score(), Evaluated: m.eval, Failed: m.failed})
	}
	slices.SortFunc(out.Namespaces, func(a, b ScopeScore) int {
		return cmp.Or(cmp.Compare(a.Score, b.Score), cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace))
	})
	byFW := map[string]*FrameworkScore{}
	scoreSum := map[string]float64{} // framework → sum of its evaluated controls' scores
	for k, m := range controls {
		fs := byFW[k.fw]
		if fs == nil {
			fs = &FrameworkScore{Framework: k.fw}
			byFW[k.fw] = fs
		}
		rules := slices.Clone(controlRules[k])
		slices.Sort(rules)
		cs := ControlScore{ID: k.id, Rules: slices.Compact(rules), Score: m.score(), Evaluated: m.eval, Failed: m.failed,
			Pass: m.eval > 0 && m.failed == 0, NotEvaluated: m.eval == 0}
		if cs.Pass {
			fs.ControlsPassed++
		}
		if !cs.NotEvaluated {
			fs.ControlsEvaluated++
			scoreSum[k.fw] += cs.Score
		}
		fs.Controls = append(fs.Controls, cs)
	}
	for _, fw := range slices.Sorted(maps.Keys(byFW)) {
		fs := byFW[fw]
		fs.Score = 100
		if fs.ControlsEvaluated > 0 {
			fs.Score = math.Round(10*scoreSum[fw]/float64(fs.ControlsEvaluated)) / 10
		}
		slices.SortFunc(fs.Controls, func(a, b ControlScore) int { return compareControlIDs(a.ID, b.ID) })
		out.Frameworks = append(out.Frameworks, *fs)
	}
	return out
}

// scopesOf returns the rule's evaluated scopes, adding any scope where it
// failed without a count (a rule over the whole inventory reports on
// resources it did not count one by one), so failures never exceed
// evaluations.
func (c *Coverage) scopesOf(rc RuleCoverage, failing map[Scope]map[resKey]bool) []ScopeCount {
	out := slices.Clone(rc.Scopes)
	for s, res := range failing {
		found := false
		for i := range out {
			if out[i].Cluster == s.Cluster && out[i].Namespace == s.Namespace {
				out[i].Evaluated = max(out[i].Evaluated, len(res))
				found = true
			}
		}
		if !found {
			out = append(out, ScopeCount{Cluster: s.Cluster, Namespace: s.Namespace, Evaluated: len(res)})
		}
	}
	return out
}

// resKey names a resource within a scope.
type resKey struct{ kind, name string }

func getOrNew[K comparable, V any](m map[K]*V, k K) *V {
	v := m[k]
	if v == nil {
		v = new(V)
		m[k] = v
	}
	return v
}

// compareControlIDs orders "5.2.10" after "5.2.9": numeric parts compare
// as numbers.
func compareControlIDs(a, b string) int {
	for a != "" && b != "" {
		na, ra := leadingNumber(a)
		nb, rb := leadingNumber(b)
		if na >= 0 && nb >= 0 {
			if c := cmp.Compare(na, nb); c != 0 {
				return c
			}
			a, b = ra, rb
			continue
		}
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func leadingNumber(s string) (int, string) {
	n, i := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && i < 9 {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i == 0 {
		return -1, s
	}
	return n, s[i:]
}
