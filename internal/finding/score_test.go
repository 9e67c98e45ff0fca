package finding

import (
	"testing"
	"time"
)

// TestScoresNotEvaluated checks that a control whose rules judged nothing
// is reported as not evaluated, not as passed, and that a report that
// judged nothing at all has no score.
func TestScoresNotEvaluated(t *testing.T) {
	cis := func(id string) []Control { return []Control{{Framework: "CIS", ID: id}} }
	shop := Scope{Namespace: "shop"}
	failing := Finding{RuleID: "privileged", Severity: SeverityCritical, Resource: Resource{Namespace: "shop", Kind: "Deployment", Name: "api"}}
	tests := []struct {
		name         string
		evaluated    map[string]int // rule → evaluations in shop
		findings     []Finding
		wantPass     map[string]bool // control → pass
		wantNotEval  map[string]bool
		wantPassed   int
		wantEvalCtls int
		wantText     string
	}{
		{
			name:         "rbac rule saw no role",
			evaluated:    map[string]int{"privileged": 2, "rbac-wildcard": 0, "probes": 2},
			findings:     []Finding{failing},
			wantPass:     map[string]bool{"5.2.1": false, "5.1.3": false, "5.7.1": true},
			wantNotEval:  map[string]bool{"5.1.3": true},
			wantPassed:   1,
			wantEvalCtls: 2,
			wantText:     "Score: 75% overall; CIS 75% (1/2 controls pass, 1 not evaluated)",
		},
		{
			name:         "every rule judged something",
			evaluated:    map[string]int{"privileged": 2, "rbac-wildcard": 1, "probes": 2},
			wantPass:     map[string]bool{"5.2.1": true, "5.1.3": true, "5.7.1": true},
			wantPassed:   3,
			wantEvalCtls: 3,
			wantText:     "Score: 100% overall; CIS 100% (3/3 controls pass)",
		},
		{
			name:         "nothing judged",
			evaluated:    map[string]int{"privileged": 0, "rbac-wildcard": 0, "probes": 0},
			wantPass:     map[string]bool{"5.2.1": false, "5.1.3": false, "5.7.1": false},
			wantNotEval:  map[string]bool{"5.2.1": true, "5.1.3": true, "5.7.1": true},
			wantPassed:   0,
			wantEvalCtls: 0,
			wantText:     "Score: n/a (no resource was evaluated)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b CoverageBuilder
			for rule, ctl := range map[string]string{"privileged": "5.2.1", "rbac-wildcard": "5.1.3", "probes": "5.7.1"} {
				b.Rule(rule, rule, SeverityHigh, cis(ctl))
				if n := tt.evaluated[rule]; n > 0 {
					b.EvaluatedN(rule, shop, n)
				}
			}
			r := NewReport(Tool{Name: "palisade"}, "m.yaml", time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), tt.findings)
			r.Coverage = b.Build()
			s := ComputeScores(r)
			if len(s.Frameworks) != 1 {
				t.Fatalf("frameworks %+v, want CIS only", s.Frameworks)
			}
			fw := &s.Frameworks[0]
			for _, c := range fw.Controls {
				if c.Pass != tt.wantPass[c.ID] || c.NotEvaluated != tt.wantNotEval[c.ID] {
					t.Errorf("control %s: pass %v notEvaluated %v, want %v %v", c.ID, c.Pass, c.NotEvaluated, tt.wantPass[c.ID], tt.wantNotEval[c.ID])
				}
			}
			if fw.ControlsPassed != tt.wantPassed || fw.ControlsEvaluated != tt.wantEvalCtls || fw.ControlsNotEvaluated() != 3-tt.wantEvalCtls {
				t.Errorf("controls passed %d evaluated %d, want %d %d", fw.ControlsPassed, fw.ControlsEvaluated, tt.wantPassed, tt.wantEvalCtls)
			}
			if got := scoreText(s); got != tt.wantText {
				t.Errorf("score line\n got %q\nwant %q", got, tt.wantText)
			}
		})
	}
}

// TestScoresAreMeansOverRules checks that scores average rules (weighted by
// severity) and controls, so the number of objects of a kind does not
// decide them: a cluster whose 200 bootstrap roles pass every RBAC rule
// and whose two Deployments fail privileged scores as the rules say, not
// 98 % as pooling every evaluation did.
func TestScoresAreMeansOverRules(t *testing.T) {
	cis := func(id string) []Control { return []Control{{Framework: "CIS", ID: id}} }
	shop, system := Scope{Cluster: "prod", Namespace: "shop"}, Scope{Cluster: "prod"}
	deploy := func(name string) Finding {
		return Finding{RuleID: "privileged", Severity: SeverityCritical, Resource: Resource{Cluster: "prod", Namespace: "shop", Kind: "Deployment", Name: name}}
	}
	tests := []struct {
		name       string
		findings   []Finding
		overall    float64
		shop, prod float64
		privileged float64 // control 5.2.1
		framework  float64
	}{
		// Weights: privileged 10, rbac-wildcard 6, probes 1 (sum 17).
		{"one of two privileged", []Finding{deploy("api")}, 100 * (10*0.5 + 6 + 1) / 17, 100 * (10*0.5 + 1) / 11, 100 * (10*0.5 + 6 + 1) / 17, 50, (50 + 100 + 100) / 3.0},
		{"both privileged", []Finding{deploy("api"), deploy("web")}, 100 * 7 / 17.0, 100 * 1 / 11.0, 100 * 7 / 17.0, 0, 200 / 3.0},
		{"none", nil, 100, 100, 100, 100, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b CoverageBuilder
			b.Rule("privileged", "privileged", SeverityCritical, cis("5.2.1"))
			b.Rule("rbac-wildcard", "rbac-wildcard", SeverityHigh, cis("5.1.3"))
			b.Rule("probes", "probes", SeverityLow, cis("5.7.1"))
			b.EvaluatedN("privileged", shop, 2)
			b.EvaluatedN("probes", shop, 2)
			b.EvaluatedN("rbac-wildcard", system, 200)
			r := NewReport(Tool{Name: "palisade"}, "prod", time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), tt.findings)
			r.Coverage = b.Build()
			s := ComputeScores(r)
			round := func(f float64) float64 { return float64(int(f*10+0.5)) / 10 }
			if s.Overall != round(tt.overall) {
				t.Errorf("overall %v, want %v", s.Overall, round(tt.overall))
			}
			if len(s.Clusters) != 1 || s.Clusters[0].Score != round(tt.prod) {
				t.Errorf("clusters %+v, want prod %v", s.Clusters, round(tt.prod))
			}
			if len(s.Namespaces) != 1 || s.Namespaces[0].Score != round(tt.shop) {
				t.Errorf("namespaces %+v, want shop %v", s.Namespaces, round(tt.shop))
			}
			fw := s.Frameworks[0]
			if fw.Controls[0].ID != "5.1.3" || fw.Controls[1].ID != "5.2.1" || fw.Controls[1].Score != round(tt.privileged) {
				t.Errorf("controls %+v, want 5.2.1 at %v", fw.Controls, round(tt.privileged))
			}
			if fw.Score != round(tt.framework) {
				t.Errorf("framework %v, want %v", fw.Score, round(tt.framework))
			}
		})
	}
}
