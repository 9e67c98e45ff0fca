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
	return &Engine{
		rules:    set.Rules,
		corr:     newCorrelator(set.Sequences, opts.MaxState),
		dedupe:   NewDeduper(opts.MaxState),
		fired:    newLRU[string, struct{}](opts.MaxState, 0),
		throttle: newLRU[string, time.Time](opts.MaxState, 0),
		bursts:   newLRU[string, []burstHit](opts.MaxState, 0),
		opts:     opts,
		stats:    EngineStats{EvalErrors: map[string]int{}},
	}, nil
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

// Prepare evaluates every rule's prefilter and condition on e ahead of
// Process, which then only applies dedupe, thresholds, throttles,
// exceptions and correlation. Rule conditions are pure, so Prepare needs
// no lock: decode workers call it in parallel (DecodeOptions.Prepare), each
// on its own events, and it is where most of the rules' CPU goes. Process
// evaluates the rules itself when e was not prepared by this engine.
func (en *Engine) Prepare(e *Event) { e.pre = en.match(e) }

func (en *Engine) match(e *Event) *prepared {
	p := &prepared{en: en}
	for i, r := range en.rules {
		if !r.wants(e) {
			continue
		}
		ok, err := r.Eval(e)
		if err != nil || ok {
			p.hits = append(p.hits, ruleHit{rule: i, err: err != nil})
		}
	}
	return p
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
