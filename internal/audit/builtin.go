package audit

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/google/cel-go/cel"
)

//go:embed rules/*.yaml
var builtinFS embed.FS

// Builtin compiles the built-in rule library.
func Builtin(env *cel.Env) (*RuleSet, error) {
	names, err := fs.Glob(builtinFS, "rules/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list built-in rules: %w", err)
	}
	set := &RuleSet{}
	var errs []error
	for _, n := range names {
		data, err := builtinFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read built-in rules %s: %w", n, err)
		}
		s, err := LoadRules(env, "builtin:"+path.Base(n), data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		set.Merge(s)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return set, nil
}

// Merge appends o's rules and sequences to s.
func (s *RuleSet) Merge(o *RuleSet) {
	s.Rules = append(s.Rules, o.Rules...)
	s.Sequences = append(s.Sequences, o.Sequences...)
}

// renderPlaybook fills the placeholders of a playbook ($NAME, $NAMESPACE,
// $RESOURCE, $ACTOR, $ACTOR_NAME, $URI) from the event.
func renderPlaybook(steps []Step, e *Event) []Step {
	if len(steps) == 0 {
		return nil
	}
	ns := e.Target.Namespace
	if ns == "" {
		ns = "default"
	}
	r := strings.NewReplacer("$NAMESPACE", ns, "$NAME", e.Target.Name, "$RESOURCE", e.Target.Resource,
		"$ACTOR_NAME", e.Actor.Name, "$ACTOR", e.Actor.Username, "$URI", e.URI)
	out := make([]Step, len(steps))
	for i, s := range steps {
		out[i] = Step{Title: s.Title, Command: r.Replace(s.Command)}
	}
	return out
}
