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
