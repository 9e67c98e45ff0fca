package audit

import (
	"regexp"
	"testing"
)

func TestBuiltinCompiles(t *testing.T) {
	env, err := NewCELEnv()
	if err != nil {
		t.Fatal(err)
	}
	set, err := Builtin(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules) < 40 {
		t.Errorf("got %d built-in rules, want at least 40", len(set.Rules))
	}
	if len(set.Sequences) < 3 {
		t.Errorf("got %d built-in sequences, want at least 3", len(set.Sequences))
	}
	if _, err := NewEngine(set, EngineOptions{}); err != nil {
		t.Fatal(err)
	}
	tactic := regexp.MustCompile(`^TA\d{4}$`)
	tech := regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	for _, r := range set.Rules {
		if r.Description == "" || len(r.Playbook) == 0 || len(r.MITRE.Tactics) == 0 || len(r.MITRE.Techniques) == 0 {
			t.Errorf("rule %s: description, playbook and MITRE tactics and techniques are required", r.ID)
		}
		for _, x := range r.MITRE.Tactics {
			if !tactic.MatchString(x) {
				t.Errorf("rule %s: bad tactic %q", r.ID, x)
			}
		}
		for _, x := range r.MITRE.Techniques {
			if !tech.MatchString(x) {
				t.Errorf("rule %s: bad technique %q", r.ID, x)
			}
		}
	}
	t.Logf("%d rules, %d sequences", len(set.Rules), len(set.Sequences))
}
