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
	vals := [...]string{ns, e.Target.Name, e.Target.Resource, e.Actor.Name, e.Actor.Username, e.URI}
	out := make([]Step, len(steps))
	for i, s := range steps {
		out[i] = Step{Title: s.Title, Command: expandPlaybook(s.Command, &vals)}
	}
	return out
}

// playbookVars are the placeholders of a playbook command, longest first
// where one is a prefix of another, as strings.NewReplacer would try them.
var playbookVars = [...]string{"$NAMESPACE", "$NAME", "$RESOURCE", "$ACTOR_NAME", "$ACTOR", "$URI"}

// expandPlaybook replaces each placeholder of cmd with vals (in
// playbookVars order), scanning left to right without re-reading what it
// inserted: strings.NewReplacer's result, without building a replacer per
// alert.
func expandPlaybook(cmd string, vals *[len(playbookVars)]string) string {
	i := strings.IndexByte(cmd, '$')
	if i < 0 {
		return cmd
	}
	var b strings.Builder
	b.Grow(len(cmd) + 32)
	for i >= 0 {
		b.WriteString(cmd[:i])
		cmd = cmd[i:]
		matched := false
		for k, v := range playbookVars {
			if strings.HasPrefix(cmd, v) {
				b.WriteString(vals[k])
				cmd = cmd[len(v):]
				matched = true
				break
			}
		}
		if !matched {
			b.WriteByte('$')
			cmd = cmd[1:]
		}
		i = strings.IndexByte(cmd, '$')
	}
	b.WriteString(cmd)
	return b.String()
}
