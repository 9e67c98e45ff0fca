package posture

import (
	"context"
	"fmt"
	"runtime"
	"slices"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/parallel"
)

// RulePrefix starts the rule ID of every posture finding: "posture/<check ID>".
const RulePrefix = "posture/"

// ControlsFunc returns the compliance controls of a check.
type ControlsFunc func(checkID string) []finding.Control

// Scanner runs a registry's checks over inventories.
type Scanner struct {
	reg      *Registry
	controls ControlsFunc
}

// NewScanner returns a scanner of reg's checks whose findings carry the
// controls that controls gives (nil: none).
func NewScanner(reg *Registry, controls ControlsFunc) *Scanner {
	if controls == nil {
		controls = func(string) []finding.Control { return nil }
	}
	return &Scanner{reg: reg, controls: controls}
}

// Only returns a registry holding only the checks named by ids, in
// registration order; unknown IDs are ignored.
func (r *Registry) Only(ids ...string) *Registry {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := &Registry{pin: r.pin}
	for _, rc := range r.checks {
		if want[rc.check.ID] {
			out.checks = append(out.checks, rc)
		}
	}
	return out
}

// Outcome is what a scan found.
type Outcome struct {
	// Findings are one per Result, with annotation exceptions applied.
	Findings []finding.Finding
	// Warnings are problems that did not stop the scan, such as an
	// exception annotation that could not be read.
	Warnings []string
	// Coverage counts what each check evaluated, per cluster and
	// namespace, for scores and for reports that show passes.
	Coverage *finding.Coverage
}

// Scan evaluates every check over inv. It stops only when ctx is done.
func (s *Scanner) Scan(ctx context.Context, inv *kube.Inventory, opts Options) (*Outcome, error) {
	inv = s.reg.View(inv)
	// Every check is evaluated first, keeping the inputs it found something
	// on with their results; the findings are then made once, each check's
	// straight into its part of one slice. Joining per-check slices copied
	// every finding once more, with the collector running (a tenth of a
	// live scan of 10,000 objects), and held both copies at the peak.
	out := &Outcome{}
	var hits []checkHits
	ex := newAnnotationExceptions(opts.IgnoreAnnotationExceptions)
	// findings sets out.Findings from the checks evaluated so far: at the
	// end, or what was found before ctx ended the scan.
	findings := func() *Outcome {
		n := 0
		for i := range hits {
			n += hits[i].n
		}
		out.Findings = make([]finding.Finding, n) // "no findings" is [], not nil
		off := 0
		for i := range hits {
			h := &hits[i]
			s.toFindings(h, out.Findings[off:off+h.n], ex)
			off += h.n
			hits[i] = checkHits{} // let the collector have the results
		}
		return out
	}
	var cov finding.CoverageBuilder
	var blind []string             // checks not evaluated for want of a kind (Check.Needs)
	var namespaces []finding.Scope // computed once, for inventory checks
	var wlScopes []scopeCount      // computed once, for workload checks
	// One Input per workload serves every workload check: checks do not
	// change their input.
	wls := make([]Input, len(inv.Workloads))
	for i, w := range inv.Workloads {
		wls[i] = Input{Workload: w, Object: w.Object, Inventory: inv, Options: &opts}
	}
	workers := runtime.GOMAXPROCS(0)
	unseen := s.unseenNeeds(inv)
	invResults, err := s.evalInventoryChecks(ctx, inv, &opts, unseen, workers)
	if err != nil {
		return findings(), fmt.Errorf("posture scan: %w", err)
	}
	for ci, rc := range s.reg.checks {
		if err := ctx.Err(); err != nil {
			return findings(), fmt.Errorf("posture scan: %w", err)
		}
		c := rc.check
		ruleID := RulePrefix + c.ID
		h := checkHits{check: c, ruleID: ruleID, controls: s.controls(c.ID)}
		cov.Rule(ruleID, c.Title, c.Severity, h.controls)
		if kind := unseen[ci]; kind != "" {
			blind = append(blind, fmt.Sprintf("check %s not evaluated: the scan could not list %s objects, and it judges their absence", c.ID, kind))
			continue
		}
		// Workload and object checks are evaluated in parallel (Eval is
		// pure), in input order, so the outcome is the same as one
		// goroutine's.
		switch c.Scope {
		case ScopeWorkload:
			parts, err := evalAll(ctx, rc.eval, wls, workers)
			if err != nil {
				return findings(), fmt.Errorf("posture scan: %w", err)
			}
			if wlScopes == nil {
				wlScopes = countScopes(wls)
			}
			for _, sc := range wlScopes {
				cov.EvaluatedN(ruleID, sc.Scope, sc.n)
			}
			h.keep(parts)
		case ScopeObject:
			var ins []Input
			for _, kind := range c.Kinds {
				for _, o := range inv.OfKind(kind) {
					ins = append(ins, Input{Object: o, Inventory: inv, Options: &opts})
				}
			}
			parts, err := evalAll(ctx, rc.eval, ins, workers)
			if err != nil {
				return findings(), fmt.Errorf("posture scan: %w", err)
			}
			for _, sc := range countScopes(ins) {
				cov.EvaluatedN(ruleID, sc.Scope, sc.n)
			}
			h.keep(parts)
		case ScopeInventory:
			// An inventory check judges the objects of its kinds, or else
			// (quotas, default-deny policies) each namespace.
			if len(c.Kinds) > 0 {
				for _, kind := range c.Kinds {
					for _, o := range inv.OfKind(kind) {
						cov.Evaluated(ruleID, scopeOf(o))
					}
				}
			} else {
				if namespaces == nil {
					namespaces = namespaceScopes(inv)
				}
				for _, sc := range namespaces {
					cov.Evaluated(ruleID, sc)
				}
			}
			// Results of an inventory check name their objects; their
			// input is the inventory alone. They are kept in runs, so
			// that a check with thousands converts on every core.
			in, rs := &Input{Inventory: inv, Options: &opts}, invResults[ci]
			for lo := 0; lo < len(rs); lo += convertBatch {
				h.keep([][]hit{{{in: in, rs: rs[lo:min(lo+convertBatch, len(rs))]}}})
			}
			invResults[ci] = nil
		}
		hits = append(hits, h)
	}
	findings()
	out.Warnings = append(blind, ex.warnings...)
	out.Coverage = cov.Build()
	return out, nil
}

// unseenNeeds returns, by the check's index in the registry, a kind the
// check needs (Check.Needs) that inv could not list, or "": such a check
// is not evaluated.
func (s *Scanner) unseenNeeds(inv *kube.Inventory) []string {
	out := make([]string, len(s.reg.checks))
	for i, rc := range s.reg.checks {
		for _, k := range rc.check.Needs {
			if inv.Unlisted[k] {
				out[i] = k
				break
			}
		}
	}
	return out
}

// convertBatch is the fewest results a goroutine makes findings of.
const convertBatch = 256

// checkHits is what one check found: the inputs it returned results for,
// each with its results, in input order, in the parts evalAll made them
// (joining them would copy every hit once more).
type checkHits struct {
	check    *Check
	ruleID   string // of its findings, made once rather than per finding
	controls []finding.Control
	parts    [][]hit
	n        int // results in all
}

// hit is an input a check returned results for, with its results.
type hit struct {
	in *Input
	rs []Result
}

// keep records parts, the hits of a run of inputs.
func (h *checkHits) keep(parts [][]hit) {
	for _, p := range parts {
		if len(p) == 0 {
			continue
		}
		h.parts = append(h.parts, p)
		for i := range p {
			h.n += len(p[i].rs)
		}
	}
}

// evalInventoryChecks evaluates every inventory check but those unseen
// names (unseenNeeds), several at a time (each relates many objects
// serially, and a scan has two dozen of them), and returns their results
// by the check's index in the registry.
func (s *Scanner) evalInventoryChecks(ctx context.Context, inv *kube.Inventory, opts *Options, unseen []string, workers int) ([][]Result, error) {
	out := make([][]Result, len(s.reg.checks))
	var idx []int
	for i, rc := range s.reg.checks {
		if rc.check.Scope == ScopeInventory && unseen[i] == "" {
			idx = append(idx, i)
		}
	}
	err := parallel.Each(ctx, len(idx), workers, 1, func(j int) {
		i := idx[j]
		out[i] = s.reg.checks[i].eval(&Input{Inventory: inv, Options: opts})
	})
	return out, err
}

// toFindings writes the findings of h into fs (len h.n), in order: on
// every core, then annotation exceptions applied on this goroutine (ex
// caches and warns).
func (s *Scanner) toFindings(h *checkHits, fs []finding.Finding, ex *annotationExceptions) {
	// offsets[k] is where the findings of part k start in fs.
	offsets := make([]int, len(h.parts)+1)
	for k, p := range h.parts {
		offsets[k+1] = offsets[k]
		for i := range p {
			offsets[k+1] += len(p[i].rs)
		}
	}
	convert := func(lo, hi int) {
		// A check says the same thing of many objects ("Container app
		// runs privileged" of every Deployment whose container is app):
		// each distinct message is built once per goroutine, not once per
		// finding (a third of a large scan's findings memory).
		messages := map[string]string{}
		for k := lo; k < hi; k++ {
			at := offsets[k]
			for _, x := range h.parts[k] {
				for j := range x.rs {
					r := &x.rs[j]
					msg, ok := messages[r.Message]
					if !ok {
						msg = findingMessage(h.check, r)
						messages[r.Message] = msg
					}
					fs[at] = s.toFinding(h, x.in, r, msg)
					at++
				}
			}
		}
	}
	if h.n == 0 {
		return
	}
	// Spread by results: at least convertBatch results a goroutine.
	parallel.For(len(h.parts), max(1, convertBatch*len(h.parts)/h.n), convert)
	at := 0
	for _, p := range h.parts {
		for _, x := range p {
			for j := range x.rs {
				ex.apply(h.check.ID, objectOf(x.in, &x.rs[j]), x.in.Workload, &fs[at])
				at++
			}
		}
	}
}

// scopeCount is how many inputs of a check are in a scope.
type scopeCount struct {
	finding.Scope
	n int
}

// countScopes counts ins per scope, in the order scopes first appear.
func countScopes(ins []Input) []scopeCount {
	at := map[finding.Scope]int{}
	var out []scopeCount
	for i := range ins {
		sc := scopeOf(ins[i].Object)
		k, ok := at[sc]
		if !ok {
			k = len(out)
			at[sc] = k
			out = append(out, scopeCount{Scope: sc})
		}
		out[k].n++
	}
	return out
}

// evalBatch is how many inputs a worker of evalAll takes at a time: enough
// to make the hand-off cheap, few enough to spread a small scan.
const evalBatch = 64

// evalAll evaluates eval on each input on up to workers goroutines, and
// returns the inputs with results, with their results, in input order: in
// parts of up to evalBatch inputs, one per batch a worker took. It keeps
// nothing for an input without results (a slot per input was a tenth of a
// large scan's memory). It stops early, with ctx's error, when ctx is done.
func evalAll(ctx context.Context, eval func(*Input) []Result, ins []Input, workers int) ([][]hit, error) {
	parts := make([][]hit, (len(ins)+evalBatch-1)/evalBatch)
	err := parallel.Each(ctx, len(parts), workers, 1, func(k int) {
		var buf [evalBatch]hit
		n := 0
		for i := k * evalBatch; i < min((k+1)*evalBatch, len(ins)); i++ {
			if rs := eval(&ins[i]); len(rs) > 0 {
				buf[n] = hit{in: &ins[i], rs: rs}
				n++
			}
		}
		if n > 0 {
			parts[k] = slices.Clone(buf[:n])
		}
	})
	if err != nil {
		return nil, err
	}
	return parts, nil
}

func scopeOf(o *kube.Object) finding.Scope {
	return finding.Scope{Cluster: o.Source.Cluster, Namespace: o.Ref.Namespace}
}

// namespaceScopes lists every (cluster, namespace) an object of inv is in
// or declares; an inventory of cluster-scoped objects only is one scope,
// and an empty one none: there is nothing to judge.
func namespaceScopes(inv *kube.Inventory) []finding.Scope {
	seen := map[finding.Scope]bool{}
	var out []finding.Scope
	add := func(s finding.Scope) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, o := range inv.Objects {
		switch {
		case o.Ref.Kind == "Namespace":
			add(finding.Scope{Cluster: o.Source.Cluster, Namespace: o.Meta.Name})
		case o.Ref.Namespace != "":
			add(finding.Scope{Cluster: o.Source.Cluster, Namespace: o.Ref.Namespace})
		}
	}
	if len(out) == 0 && len(inv.Objects) > 0 {
		out = append(out, finding.Scope{})
	}
	return out
}

func objectOf(in *Input, r *Result) *kube.Object {
	if r.Object != nil {
		return r.Object
	}
	return in.Object
}

// findingMessage is the message of a finding of c with result r: what
// was found, then why it matters.
func findingMessage(c *Check, r *Result) string { return r.Message + " " + c.Rationale }

// toFinding makes the finding of h's check with result r on in, whose
// message is msg.
func (s *Scanner) toFinding(h *checkHits, in *Input, r *Result, msg string) finding.Finding {
	c := h.check
	sev := c.Severity
	if r.Severity != finding.SeverityUnknown {
		sev = r.Severity
	}
	f := finding.Finding{
		RuleID:      h.ruleID,
		Title:       c.Title,
		Severity:    sev,
		Category:    c.Category,
		Message:     msg,
		Evidence:    r.Evidence,
		Remediation: c.Remediation,
		Controls:    h.controls,
	}
	res := finding.Resource{Container: r.Container, Image: r.Image}
	if o := objectOf(in, r); o != nil {
		res.Cluster = o.Source.Cluster
		res.Namespace = o.Ref.Namespace
		res.APIVersion = o.Ref.APIVersion
		res.Kind = o.Ref.Kind
		res.Name = o.Ref.Name
		res.File = o.Source.File
		res.Line = o.Line(r.Path...)
	} else {
		res.Namespace, res.APIVersion, res.Kind, res.Name = r.Ref.Namespace, r.Ref.APIVersion, r.Ref.Kind, r.Ref.Name
		if r.At != nil {
			res.Cluster, res.File, res.Line = r.At.Source.Cluster, r.At.Source.File, r.At.Line("metadata", "namespace")
		}
	}
	if res.Kind == "Namespace" && res.Namespace == "" {
		res.Namespace = res.Name // so exceptions by namespace match
	}
	f.Resource = res
	return f
}
