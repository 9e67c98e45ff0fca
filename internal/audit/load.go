package audit

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/google/cel-go/cel"
	"go.yaml.in/yaml/v3"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
)

// RuleFile is the YAML document of a rule file.
type RuleFile struct {
	Rules     []RuleSpec     `yaml:"rules"`
	Sequences []SequenceSpec `yaml:"sequences"`
}

// RuleSpec is a detection rule as written in YAML.
type RuleSpec struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Severity    string   `yaml:"severity"`
	MITRE       MITRE    `yaml:"mitre"`
	Stages      []string `yaml:"stages"`
	Verbs       []string `yaml:"verbs"`
	Resources   []string `yaml:"resources"`
	Condition   string   `yaml:"condition"`
	Throttle    string   `yaml:"throttle"`
	ThrottleBy  []string `yaml:"throttleBy"`
	Threshold   *struct {
		Count  int    `yaml:"count"`
		Window string `yaml:"window"`
	} `yaml:"threshold"`
	Playbook   []Step          `yaml:"playbook"`
	Exceptions []ExceptionSpec `yaml:"exceptions"`
}

// ExceptionSpec is a rule-local exception; it becomes a config.Exception
// whose match is limited to the rule.
type ExceptionSpec struct {
	ID        string `yaml:"id"`
	Namespace string `yaml:"namespace"`
	Kind      string `yaml:"kind"`
	Name      string `yaml:"name"`
	Owner     string `yaml:"owner"`
	Reason    string `yaml:"reason"`
	Expires   string `yaml:"expires"`
}

// RuleSet is what rule files compile to.
type RuleSet struct {
	Rules     []*Rule
	Sequences []*Sequence
}

var ruleIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*(/[a-z0-9-]+)*$`)

// LooksLikeFalco reports whether data is a Falco rules file (a YAML list of
// rule/macro/list items) rather than a Palisade one (a mapping).
func LooksLikeFalco(data []byte) bool {
	var n yaml.Node
	if yaml.Unmarshal(data, &n) != nil || len(n.Content) == 0 {
		return false
	}
	return n.Content[0].Kind == yaml.SequenceNode
}

// LoadRules compiles a Palisade rule file. Every problem is reported, each
// naming the file, the rule and (for CEL) the position in the condition.
func LoadRules(env *cel.Env, file string, data []byte) (*RuleSet, error) {
	var rf RuleFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil {
		return nil, fmt.Errorf("parse rule file %s: %w", file, err)
	}
	var errs []error
	set := &RuleSet{}
	for i := range rf.Rules {
		r, err := compileRule(env, file, &rf.Rules[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		set.Rules = append(set.Rules, r)
	}
	for i := range rf.Sequences {
		s, err := compileSequence(env, file, &rf.Sequences[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		set.Sequences = append(set.Sequences, s)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return set, nil
}

func compileRule(env *cel.Env, file string, s *RuleSpec) (*Rule, error) {
	where := fmt.Sprintf("%s: rule %q", file, s.ID)
	if !ruleIDPattern.MatchString(s.ID) {
		return nil, fmt.Errorf("%s: id must match %s", where, ruleIDPattern)
	}
	sev, err := finding.ParseSeverity(s.Severity)
	if err != nil || sev == finding.SeverityUnknown {
		return nil, fmt.Errorf("%s: severity %q: want critical, high, medium, low or info", where, s.Severity)
	}
	if s.Condition == "" {
		return nil, fmt.Errorf("%s: condition is required", where)
	}
	cond, err := compileCondition(env, file+": rule "+s.ID, s.Condition)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	r := &Rule{ID: s.ID, Name: s.Name, Description: s.Description, Severity: sev, MITRE: s.MITRE,
		Playbook: s.Playbook, Stages: s.Stages, Verbs: s.Verbs, Resources: s.Resources,
		ThrottleBy: s.ThrottleBy, File: file, Eval: cond.eval, cond: cond}
	if r.Name == "" {
		r.Name = r.ID
	}
	if s.Throttle != "" {
		if r.Throttle, err = time.ParseDuration(s.Throttle); err != nil {
			return nil, fmt.Errorf("%s: throttle: %w", where, err)
		}
	}
	if t := s.Threshold; t != nil {
		w, err := time.ParseDuration(t.Window)
		if err != nil || t.Count < 2 || w <= 0 {
			return nil, fmt.Errorf("%s: threshold wants count >= 2 and a positive window, got %d in %q", where, t.Count, t.Window)
		}
		r.Threshold = &Threshold{Count: t.Count, Window: w}
	}
	for i, x := range s.Exceptions {
		exp, err := config.ParseDate(x.Expires)
		if err != nil || x.Owner == "" || x.Reason == "" {
			return nil, fmt.Errorf("%s: exception %d: owner, reason and a valid expires date are required", where, i)
		}
		r.Exceptions = append(r.Exceptions, config.Exception{ID: x.ID, Owner: x.Owner, Reason: x.Reason, Expires: exp,
			Match: config.Match{Rules: []string{s.ID}, Namespace: x.Namespace, Kind: x.Kind, Name: x.Name}})
	}
	return r, nil
}
