package audit

import (
	"regexp"
	"strings"
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

// TestExpandPlaybook checks the playbook placeholders against
// strings.NewReplacer, whose result expandPlaybook reproduces.
func TestExpandPlaybook(t *testing.T) {
	for _, cmd := range []string{
		"", "no placeholders", "$", "$$", "a$", "$X $NAM",
		"kubectl describe pod $NAME -n $NAMESPACE",
		"$NAMESPACE$NAME$RESOURCE$ACTOR_NAME$ACTOR$URI", "$ACTOR_NAMES $ACTOR_ $URI/x",
	} {
		checkExpandPlaybook(t, cmd, [...]string{"ns", "$NAME", "pods", "n$", "system:serviceaccount:a:b", "/api?x=$URI"})
	}
}

func checkExpandPlaybook(t *testing.T, cmd string, vals [len(playbookVars)]string) {
	t.Helper()
	var pairs []string
	for i, v := range playbookVars {
		pairs = append(pairs, v, vals[i])
	}
	want := strings.NewReplacer(pairs...).Replace(cmd)
	if got := expandPlaybook(cmd, &vals); got != want {
		t.Errorf("expand %q: %q, want %q", cmd, got, want)
	}
}

func FuzzExpandPlaybook(f *testing.F) {
	f.Add("kubectl delete $RESOURCE $NAME -n $NAMESPACE", "$ACTOR")
	f.Add("$ACTOR_NAME$$URI", "")
	f.Fuzz(func(t *testing.T, cmd, val string) {
		checkExpandPlaybook(t, cmd, [...]string{val, val + "x", "$" + val, val, "", val})
	})
}
