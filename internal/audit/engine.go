package audit

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/palisade-sec/palisade/internal/config"
)

// EngineOptions configure an Engine.
type EngineOptions struct {
	// Exceptions apply to every alert (the configuration's exceptions);
	// rules carry their own besides.
	Exceptions []config.Exception
	// MaxState bounds each of the dedupe, throttle, threshold and
	// correlation tables (default 100,000 entries).
	MaxState int
	// Now returns the current time for exception expiry; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// EngineStats counts what an Engine did.
type EngineStats struct {
	Events     int            // events processed
	Duplicates int            // events dropped as already seen (auditID + stage)
	Alerts     int            // alerts emitted
	Throttled  int            // alerts suppressed by a throttle window
	Excepted   int            // alerts suppressed by an exception
	EvalErrors map[string]int // per rule ID: condition evaluation errors
}

// Engine runs rules and sequences over normalized events. It is safe for
// concurrent use; events are processed one at a time.
type Engine struct {
	mu       sync.Mutex
	rules    []*Rule
	corr     *correlator
	dedupe   *Deduper
	fired    *lru[string, struct{}]   // rule+auditID: one alert per request
	throttle *lru[string, time.Time]  // rule+key → last alert
	bursts   *lru[string, []burstHit] // threshold rule+key → recent hits
	opts     EngineOptions
	stats    EngineStats
	index    *ruleIndex
	none     *prepared // the outcome of an event no rule matched
}

type burstHit struct {
	t  time.Time
	id string
}

// NewEngine builds an engine over rules and sequences.
func NewEngine(set *RuleSet, opts EngineOptions) (*Engine, error) {
	if opts.MaxState <= 0 {
		opts.MaxState = 100_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	seen := map[string]bool{}
	for _, r := range set.Rules {
		if seen[r.ID] {
			return nil, fmt.Errorf("build engine: rule %q defined twice (second in %s)", r.ID, r.File)
		}
		seen[r.ID] = true
	}
	for _, s := range set.Sequences {
		if seen[s.ID] {
			return nil, fmt.Errorf("build engine: sequence %q reuses an ID (in %s)", s.ID, s.File)
		}
		seen[s.ID] = true
		for i, st := range s.Steps {
			if st.Rule != "" && !seen[st.Rule] {
				return nil, fmt.Errorf("build engine: sequence %q step %d names unknown rule %q (%s)", s.ID, i+1, st.Rule, s.File)
			}
		}
	}
	en := &Engine{
		rules:    set.Rules,
		corr:     newCorrelator(set.Sequences, opts.MaxState),
		dedupe:   NewDeduper(opts.MaxState),
		fired:    newLRU[string, struct{}](opts.MaxState, 0),
		throttle: newLRU[string, time.Time](opts.MaxState, 0),
		bursts:   newLRU[string, []burstHit](opts.MaxState, 0),
		opts:     opts,
		stats:    EngineStats{EvalErrors: map[string]int{}},
		index:    newRuleIndex(set.Rules),
	}
	en.none = &prepared{en: en}
	return en, nil
}

// Rules returns the engine's rules.
func (en *Engine) Rules() []*Rule { return en.rules }

// Stats returns a copy of the counters.
func (en *Engine) Stats() EngineStats {
	en.mu.Lock()
	defer en.mu.Unlock()
	s := en.stats
	s.EvalErrors = make(map[string]int, len(en.stats.EvalErrors))
	for k, v := range en.stats.EvalErrors {
		s.EvalErrors[k] = v
	}
	return s
}

// Process evaluates every rule and sequence on e and returns the alerts
// it raises, in rule order, sequences last.
func (en *Engine) Process(e *Event) []*Alert {
	en.mu.Lock()
	defer en.mu.Unlock()
	if en.dedupe.Seen(e) {
		en.stats.Duplicates++
		return nil
	}
	en.stats.Events++
	pre := e.pre
	if pre == nil || pre.en != en {
		pre = en.match(e)
	}
	e.pre = nil
	var out []*Alert
	var fired map[string]bool
	for _, h := range pre.hits {
		r := en.rules[h.rule]
		if h.err {
			en.stats.EvalErrors[r.ID]++
			continue
		}
		if fired == nil {
			fired = map[string]bool{}
		}
		fired[r.ID] = true
		if a := en.ruleAlertLocked(r, e); a != nil {
			out = append(out, a)
		}
	}
	if len(en.corr.seqs) > 0 {
		for _, a := range en.corr.observe(e, fired) {
			k := a.RuleID + "\x00" + a.Evidence[0] + "\x00" + a.Actor
			if _, dup := en.fired.get(k, e.Time); dup {
				continue
			}
			en.fired.put(k, struct{}{}, e.Time)
			if en.exceptedLocked(a, nil) {
				continue
			}
			out = append(out, a)
		}
	}
	en.stats.Alerts += len(out)
	return out
}

// prepared is the stateless half of Process for one event: which rules
// matched it, or failed to evaluate, in rule order.
type prepared struct {
	en   *Engine
	hits []ruleHit
}

type ruleHit struct {
	rule int  // index in Engine.rules
	err  bool // the condition failed to evaluate
}

// Prepare evaluates the rules on e ahead of Process — the condition of
// each rule the index finds may match (see ruleIndex) — and Process then
// only applies dedupe, thresholds, throttles, exceptions and correlation.
// Rule conditions are pure, so Prepare needs no lock (the index has its
// own): decode workers call it in parallel (DecodeOptions.Prepare), each
// on its own events, and it is where most of the rules' CPU goes. Process
// evaluates the rules itself when e was not prepared by this engine.
func (en *Engine) Prepare(e *Event) { e.pre = en.match(e) }

func (en *Engine) match(e *Event) *prepared {
	var hits []ruleHit
	for _, i := range en.index.candidates(e) {
		ok, err := en.rules[i].Eval(e)
		if err != nil || ok {
			hits = append(hits, ruleHit{rule: int(i), err: err != nil})
		}
	}
	if hits == nil {
		return en.none // shared: most events match nothing
	}
	return &prepared{en: en, hits: hits}
}

// ruleIndex gives the rules that can match an event, judged by the
// fields most rules select on: stage, verb, resource, subresource,
// decision and actor type. A rule can match when its prefilter (Stages,
// Verbs, Resources) admits those values and each guard of its condition
// that reads only them holds. The answer for a combination of values is
// computed from the rules themselves on first sight and kept, so nothing
// is maintained by hand, and an event pays one map lookup instead of a
// prefilter per rule; a list or get, most of a real log, then evaluates
// a handful of rules, not all of them.
type ruleIndex struct {
	rules  []*Rule
	guards [][]func(*Event) bool // per rule: its guards on indexed fields only
	mu     sync.RWMutex
	known  map[indexKey][]int32
}

type indexKey struct {
	stage, verb, resource, subresource, decision, actorType string
}

// Bounds on the index: a real log has a few hundred combinations; input
// with endless invented verbs or resources is served uncached rather than
// growing the table.
const (
	maxIndexed       = 4096
	maxIndexedKeyLen = 256
)

func newRuleIndex(rules []*Rule) *ruleIndex {
	ix := &ruleIndex{rules: rules, guards: make([][]func(*Event) bool, len(rules)), known: map[indexKey][]int32{}}
	for i, r := range rules {
		if r.cond == nil {
			continue
		}
		for _, g := range r.cond.guards {
			if g.fields&^indexedFields == 0 {
				ix.guards[i] = append(ix.guards[i], g.test)
			}
		}
	}
	return ix
}

// candidates returns the indexes of the rules that can match e, in rule
// order. The slice is shared: callers must not change it.
func (ix *ruleIndex) candidates(e *Event) []int32 {
	k := indexKey{e.Stage, e.Verb, e.Target.Resource, e.Target.Subresource, string(e.Decision), string(e.Actor.Type)}
	ix.mu.RLock()
	c, ok := ix.known[k]
	ix.mu.RUnlock()
	if ok {
		return c
	}
	// The indexed fields alone decide: the prefilter and these guards
	// read nothing else.
	probe := &Event{Stage: k.stage, Verb: k.verb, Target: Target{Resource: k.resource, Subresource: k.subresource},
		Decision: Decision(k.decision), Actor: Actor{Type: ActorType(k.actorType)}}
	c = []int32{}
next:
	for i, r := range ix.rules {
		if !r.wants(probe) {
			continue
		}
		for _, g := range ix.guards[i] {
			if !g(probe) {
				continue next
			}
		}
		c = append(c, int32(i))
	}
	if len(k.stage)+len(k.verb)+len(k.resource)+len(k.subresource)+len(k.decision)+len(k.actorType) <= maxIndexedKeyLen {
		ix.mu.Lock()
		if len(ix.known) < maxIndexed {
			ix.known[k] = c
		}
		ix.mu.Unlock()
	}
	return c
}

// ruleAlertLocked turns a match into an alert, or nil when a per-request
// dedupe, threshold, throttle or exception holds it back.
func (en *Engine) ruleAlertLocked(r *Rule, e *Event) *Alert {
	if e.AuditID != "" {
		k := r.ID + "\x00" + e.AuditID
		if _, dup := en.fired.get(k, e.Time); dup {
			return nil
		}
		en.fired.put(k, struct{}{}, e.Time)
	}
	key := r.ID
	for _, p := range r.ThrottleBy {
		key += "\x00" + e.field(p)
	}
	a := alertOf(e)
	a.RuleID, a.RuleName, a.Kind = r.ID, r.Name, "rule"
	a.Severity, a.MITRE, a.Description, a.Playbook, a.File = r.Severity, r.MITRE, r.Description, renderPlaybook(r.Playbook, e), r.File
	a.Evidence = []string{e.AuditID}
	if r.Message != nil {
		a.Message = r.Message(e)
	}
	if t := r.Threshold; t != nil {
		hits, _ := en.bursts.get(key, e.Time)
		kept := hits[:0:0]
		for _, h := range hits {
			if e.Time.Sub(h.t) <= t.Window {
				kept = append(kept, h)
			}
		}
		kept = append(kept, burstHit{e.Time, e.AuditID})
		if len(kept) < t.Count {
			en.bursts.put(key, kept, e.Time)
			return nil
		}
		en.bursts.put(key, nil, e.Time)
		a.Kind = "threshold"
		a.Evidence = a.Evidence[:0]
		for _, h := range kept {
			a.Evidence = append(a.Evidence, h.id)
		}
	}
	if r.Throttle > 0 {
		if last, ok := en.throttle.get(key, e.Time); ok && e.Time.Sub(last) < r.Throttle && !e.Time.Before(last) {
			en.stats.Throttled++
			return nil
		}
		en.throttle.put(key, e.Time, e.Time)
	}
	if en.exceptedLocked(a, r.Exceptions) {
		return nil
	}
	return a
}

// exceptedLocked reports whether an unexpired exception covers a.
func (en *Engine) exceptedLocked(a *Alert, own []config.Exception) bool {
	if len(own) == 0 && len(en.opts.Exceptions) == 0 {
		return false
	}
	f := a.Finding()
	now := en.opts.Now()
	for _, list := range [][]config.Exception{own, en.opts.Exceptions} {
		for i := range list {
			x := &list[i]
			if !x.Expired(now) && x.Matches(&f, nil) {
				en.stats.Excepted++
				return true
			}
		}
	}
	return false
}

// String describes the engine for logs.
func (en *Engine) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d rules, %d sequences", len(en.rules), len(en.corr.seqs))
	return b.String()
}
