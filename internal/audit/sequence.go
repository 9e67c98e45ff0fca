package audit

import (
	"fmt"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/palisade-sec/palisade/internal/finding"
)

// SequenceSpec is a multi-step correlation rule as written in YAML.
type SequenceSpec struct {
	ID          string     `yaml:"id"`
	Name        string     `yaml:"name"`
	Description string     `yaml:"description"`
	Severity    string     `yaml:"severity"`
	MITRE       MITRE      `yaml:"mitre"`
	Window      string     `yaml:"window"`
	Steps       []StepSpec `yaml:"steps"`
	Playbook    []Step     `yaml:"playbook"`
}

// StepSpec is one step of a sequence. A step matches an event when the
// rule it names fired on the event (if Rule is set) and Condition holds
// (if set). Join, on every step but the first, yields the key(s) that must
// equal a key the previous step emitted; Emit yields the key(s) the next
// step joins on (default: the Join expression, else the actor's username).
type StepSpec struct {
	Name      string `yaml:"name"`
	Rule      string `yaml:"rule"`
	Condition string `yaml:"condition"`
	Join      string `yaml:"join"`
	Emit      string `yaml:"emit"`
}

// Sequence is a compiled correlation rule: ordered steps within a window.
type Sequence struct {
	ID          string
	Name        string
	Description string
	Severity    finding.Severity
	MITRE       MITRE
	Window      time.Duration
	Steps       []SequenceStep
	Playbook    []Step
	File        string
}

// SequenceStep is a compiled step.
type SequenceStep struct {
	Name string
	Rule string
	Cond Predicate
	Join func(*Event) []string
	Emit func(*Event) []string
}

const defaultKey = "e.actor.username"

func compileSequence(env *cel.Env, file string, s *SequenceSpec) (*Sequence, error) {
	where := fmt.Sprintf("%s: sequence %q", file, s.ID)
	if !ruleIDPattern.MatchString(s.ID) {
		return nil, fmt.Errorf("%s: id must match %s", where, ruleIDPattern)
	}
	sev, err := finding.ParseSeverity(s.Severity)
	if err != nil || sev == finding.SeverityUnknown {
		return nil, fmt.Errorf("%s: severity %q: want critical, high, medium, low or info", where, s.Severity)
	}
	w, err := time.ParseDuration(s.Window)
	if err != nil || w <= 0 {
		return nil, fmt.Errorf("%s: window %q: want a positive duration such as 30m", where, s.Window)
	}
	if len(s.Steps) < 2 {
		return nil, fmt.Errorf("%s: a sequence needs at least 2 steps", where)
	}
	seq := &Sequence{ID: s.ID, Name: s.Name, Description: s.Description, Severity: sev, MITRE: s.MITRE,
		Window: w, Playbook: s.Playbook, File: file}
	if seq.Name == "" {
		seq.Name = seq.ID
	}
	for i, st := range s.Steps {
		name := fmt.Sprintf("%s: sequence %s step %d", file, s.ID, i+1)
		if st.Rule == "" && st.Condition == "" {
			return nil, fmt.Errorf("%s: a step needs a rule, a condition or both", name)
		}
		cs := SequenceStep{Name: st.Name, Rule: st.Rule}
		if st.Condition != "" {
			if cs.Cond, err = compileBool(env, name+" condition", st.Condition); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		}
		join := st.Join
		if i > 0 {
			if join == "" {
				join = defaultKey
			}
			if cs.Join, err = compileStrings(env, name+" join", join); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		}
		if i < len(s.Steps)-1 {
			emit := st.Emit
			if emit == "" {
				emit = join
			}
			if emit == "" {
				emit = defaultKey
			}
			if cs.Emit, err = compileStrings(env, name+" emit", emit); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		}
		seq.Steps = append(seq.Steps, cs)
	}
	return seq, nil
}

// partial is a sequence waiting for its next step.
type partial struct {
	start    time.Time
	evidence []string
}

type partialKey struct {
	seq  string
	step int // index of the step this partial waits for
	key  string
}

// correlator advances sequences. Its state is a bounded, expiring LRU of
// partial matches, so memory stays flat whatever the event rate.
type correlator struct {
	seqs  []*Sequence
	state *lru[partialKey, *partial]
	// waiting counts the partials held per sequence and step, so that a
	// step nobody waits for costs no evaluation: most events start nothing.
	waiting map[stepKey]int
	// changes counts state changes, so that persisting the state (see
	// sequence_state.go) writes only when there is something new.
	changes uint64
}

type stepKey struct {
	seq  string
	step int
}

func newCorrelator(seqs []*Sequence, maxState int) *correlator {
	var maxWindow time.Duration
	for _, s := range seqs {
		maxWindow = max(maxWindow, s.Window)
	}
	c := &correlator{seqs: seqs, state: newLRU[partialKey, *partial](maxState, maxWindow), waiting: map[stepKey]int{}}
	c.state.onRemove = func(k partialKey) { c.waiting[stepKey{k.seq, k.step}]--; c.changes++ }
	return c
}

// hold records a partial waiting for step k.step.
func (c *correlator) hold(k partialKey, p *partial, now time.Time) {
	if !c.state.has(k) {
		c.waiting[stepKey{k.seq, k.step}]++
	}
	c.state.put(k, p, now)
	c.changes++
}

// observe feeds one event and the IDs of the rules that fired on it; it
// returns the sequences it completed.
func (c *correlator) observe(e *Event, fired map[string]bool) []*Alert {
	var out []*Alert
	now := e.Time
	for _, s := range c.seqs {
		// Last step first, so one event cannot satisfy two steps of the
		// same sequence at once.
		for i := len(s.Steps) - 1; i >= 0; i-- {
			st := &s.Steps[i]
			if i > 0 && c.waiting[stepKey{s.ID, i}] <= 0 {
				continue
			}
			if st.Rule != "" && !fired[st.Rule] {
				continue
			}
			if st.Rule == "" && e.Stage != "ResponseComplete" && e.Stage != "" {
				continue // one request, one step: judge conditions on the final stage
			}
			if st.Cond != nil {
				if ok, _ := st.Cond(e); !ok {
					continue
				}
			}
			if i == 0 {
				for _, k := range st.Emit(e) {
					c.hold(partialKey{s.ID, 1, k}, &partial{start: now, evidence: []string{e.AuditID}}, now)
				}
				continue
			}
			for _, k := range st.Join(e) {
				p, ok := c.state.get(partialKey{s.ID, i, k}, now)
				if !ok || now.Sub(p.start) > s.Window || now.Before(p.start) {
					continue
				}
				ev := append(append([]string(nil), p.evidence...), e.AuditID)
				if i == len(s.Steps)-1 {
					out = append(out, sequenceAlert(s, e, ev))
					continue
				}
				for _, next := range st.Emit(e) {
					c.hold(partialKey{s.ID, i + 1, next}, &partial{start: p.start, evidence: ev}, now)
				}
			}
		}
	}
	return out
}

func sequenceAlert(s *Sequence, e *Event, evidence []string) *Alert {
	a := alertOf(e)
	a.RuleID, a.RuleName, a.Kind = s.ID, s.Name, "sequence"
	a.Severity, a.MITRE, a.Description, a.Playbook, a.File = s.Severity, s.MITRE, s.Description, renderPlaybook(s.Playbook, e), s.File
	a.Evidence = evidence
	return a
}

// alertOf fills the event-derived part of an alert.
func alertOf(e *Event) *Alert {
	return &Alert{Time: e.Time, Cluster: e.Cluster, Actor: e.Actor.Username, SourceIPs: e.SourceIPs,
		Verb: e.Verb, Target: e.Target}
}
