package rbac

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestIndexRulesForMatchesEngine checks that the index gives every
// identity exactly Engine.RulesFor's grants, in its order: users, groups,
// service accounts named directly, through their namespace's group, and
// through system:authenticated, and identities nothing names.
func TestIndexRulesForMatchesEngine(t *testing.T) {
	e := load(t)
	x := e.Index()
	for _, s := range []string{"user:alice", "user:bob", "user:nobody", "group:sre", "group:system:authenticated",
		"sa:shop:ci", "sa:shop:default", "sa:web:ci", "sa:other:x", "user:system:anonymous"} {
		id := IdentityOf(mustSubject(t, s))
		want := e.RulesFor(id)
		got := x.RulesFor(id)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: index differs from engine (-engine +index):\n%s", s, d)
		}
		if s == "sa:shop:ci" && len(got) == 0 {
			t.Errorf("%s: no grants; the comparison proves nothing", s)
		}
	}
}
