package finding

import (
	"fmt"
	"slices"
	"time"
)

// Tool identifies the program that produced a report.
type Tool struct {
	Name    string `json:"name"`    // "palisade"
	Version string `json:"version"` // "1.4.2", or "devel" for an unreleased build
}

// Report is the result of one scan: what was scanned, by which tool and when,
// what was found, and whether the scan was complete. Every writer (table,
// JSON, SARIF) renders a Report.
type Report struct {
	// SchemaVersion is the version of the JSON document; see SchemaVersion.
	SchemaVersion string `json:"schemaVersion"`
	Tool          Tool   `json:"tool"`
	// GeneratedAt is when the scan finished, in UTC. It is passed in by the
	// caller: this package never reads the clock.
	GeneratedAt time.Time `json:"generatedAt"`
	// Target names what was scanned: an image reference, a directory of
	// manifests, a cluster context.
	Target string `json:"target"`
	// Partial is true when the scan did not cover everything it was asked to,
	// so findings may be missing. Errors then says why.
	Partial bool     `json:"partial"`
	Errors  []string `json:"errors,omitempty"`
	Summary Summary  `json:"summary"`
	// Findings are normalized: IDs and statuses filled in, most severe first.
	Findings []Finding `json:"findings"`
	// Coverage, when the scanner counts what it evaluated (posture does),
	// lets reports show passes; Scores are computed from it when written.
	Coverage *Coverage `json:"coverage,omitempty"`
	Scores   *Scores   `json:"scores,omitempty"`
	// Exposed lists the workloads reachable from outside the cluster
	// (posture scans; an empty list means none, nil that the scan does not
	// say), riskiest first.
	Exposed []ExposedWorkload `json:"exposedWorkloads,omitzero"`
}

// Summary counts the findings of a report.
type Summary struct {
	Total    int `json:"total"`    // all findings
	Open     int `json:"open"`     // findings that still need attention
	Excepted int `json:"excepted"` // findings suppressed by an exception
	// OpenBySeverity counts the open findings only, so that a gate such as
	// "fail on high" reads one number.
	OpenBySeverity SeverityCounts `json:"openBySeverity"`
}

// SeverityCounts holds one count per severity.
type SeverityCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
	Unknown  int `json:"unknown"`
}

// NewReport builds a report of fs for target. It normalizes a copy of fs (the
// caller's slice is left as it was) and computes the summary. now is the time
// the scan finished; it is stored in UTC.
func NewReport(tool Tool, target string, now time.Time, fs []Finding) *Report {
	return NewReportInPlace(tool, target, now, slices.Clone(fs))
}

// NewReportInPlace is NewReport without the copy: fs is normalized in place
// and becomes the report's findings, so the caller must not use it after.
// A posture scan of 10,000 Deployments has 100,000 findings, and the copy
// was 45 MB more at the scan's peak of memory.
func NewReportInPlace(tool Tool, target string, now time.Time, fs []Finding) *Report {
	if fs == nil {
		fs = []Finding{}
	}
	Normalize(fs)
	fs = dropRepeats(fs)
	return &Report{
		SchemaVersion: SchemaVersion,
		Tool:          tool,
		GeneratedAt:   now.UTC(),
		Target:        target,
		Summary:       Summarize(fs),
		Findings:      fs,
	}
}

// dropRepeats removes, from normalized fs, each finding that repeats an
// earlier one: same ID (rule, resource, key evidence: not the line),
// message and status. A scan meets the same object twice when it is given
// one file twice, renders a chart both alone and as another chart's
// dependency under one release name (where the parent's values may move
// its lines), or reads a file that holds one object twice; the ID is what
// baselines, SARIF fingerprints and exceptions know a finding by, and a
// report that lists one twice is counted twice by every consumer. The
// first, at its line, stays. Findings that share an ID but say different
// things are all kept.
func dropRepeats(fs []Finding) []Finding {
	out := fs[:0]
	group := 0 // out[group:] are of one rule and resource, but for the line (Normalize's order)
	var seen map[repeatKey]bool
	for i := range fs {
		f := &fs[i]
		if group < len(out) && !sameRuleAndResource(&out[group], f) {
			group, seen = len(out), nil
		}
		k := repeatKey{f.ID, f.Message, f.Status}
		if n := len(out) - group; n >= repeatMapFrom && seen == nil {
			seen = make(map[repeatKey]bool, 2*n)
			for j := group; j < len(out); j++ {
				seen[repeatKey{out[j].ID, out[j].Message, out[j].Status}] = true
			}
		}
		switch {
		case seen != nil:
			if seen[k] {
				continue
			}
			seen[k] = true
		case slices.ContainsFunc(out[group:], func(g Finding) bool { return repeatKey{g.ID, g.Message, g.Status} == k }):
			continue
		}
		out = append(out, *f)
	}
	clear(fs[len(out):]) // let the collector have what was dropped
	return out
}

// repeatKey is what makes a finding a repeat of another.
type repeatKey struct {
	id, message string
	status      Status
}

// repeatMapFrom is the size from which a group's findings are looked up in
// a map: one resource with thousands of findings of one rule (a ConfigMap
// of many keys) would otherwise be compared pairwise.
const repeatMapFrom = 32

// sameRuleAndResource reports whether a and b are of one rule, severity
// and resource, lines aside: the findings Normalize puts together.
func sameRuleAndResource(a, b *Finding) bool {
	ra, rb := a.Resource, b.Resource
	ra.Line, ra.Column, rb.Line, rb.Column = 0, 0, 0, 0
	return a.Severity == b.Severity && a.RuleID == b.RuleID && ra == rb
}

// AddError records why the scan is incomplete and marks the report partial.
func (r *Report) AddError(err error) {
	r.Partial = true
	r.Errors = append(r.Errors, err.Error())
}

// IsPartial reports whether findings may be missing from r: it is marked
// partial or carries errors.
func (r *Report) IsPartial() bool { return r.Partial || len(r.Errors) > 0 }

// Summarize counts fs. Findings whose status is not excepted count as open.
func Summarize(fs []Finding) Summary {
	var s Summary
	for i := range fs {
		s.Total++
		if !fs[i].Open() {
			s.Excepted++
			continue
		}
		s.Open++
		s.OpenBySeverity.add(fs[i].Severity)
	}
	return s
}

// Get returns the count for severity s. Severities outside the known range
// count as unknown.
func (c SeverityCounts) Get(s Severity) int {
	switch s {
	case SeverityCritical:
		return c.Critical
	case SeverityHigh:
		return c.High
	case SeverityMedium:
		return c.Medium
	case SeverityLow:
		return c.Low
	case SeverityInfo:
		return c.Info
	}
	return c.Unknown
}

// AtLeast returns how many findings are at severity min or above, the number
// a "fail on" gate compares with zero.
func (c SeverityCounts) AtLeast(minimum Severity) int {
	n := 0
	for _, s := range Severities() {
		if s >= minimum {
			n += c.Get(s)
		}
	}
	return n
}

func (c *SeverityCounts) add(s Severity) {
	switch s {
	case SeverityCritical:
		c.Critical++
	case SeverityHigh:
		c.High++
	case SeverityMedium:
		c.Medium++
	case SeverityLow:
		c.Low++
	case SeverityInfo:
		c.Info++
	default:
		c.Unknown++
	}
}

// prepared returns the copy of r that writers render: findings normalized
// (a report built by hand may not be), the summary recomputed from them so it
// cannot contradict the list, and Partial set whenever there are errors. It
// rejects findings no writer can render faithfully: an invalid severity, no
// rule, a negative position, or an excepted finding without its exception.
func (r *Report) prepared() (*Report, error) {
	if r == nil {
		return nil, fmt.Errorf("nil report")
	}
	p := *r
	p.SchemaVersion = SchemaVersion
	p.GeneratedAt = r.GeneratedAt.UTC()
	p.Partial = r.IsPartial()
	p.Errors = slices.Clone(r.Errors)
	// A report NewReport built is normalized already: its findings are
	// rendered as they are, without a copy (writers only read them).
	p.Findings = r.Findings
	if !normalized(p.Findings) {
		p.Findings = slices.Clone(r.Findings)
		Normalize(p.Findings)
	}
	if p.Findings == nil {
		p.Findings = []Finding{}
	}
	for i := range p.Findings {
		f := &p.Findings[i]
		if !f.Severity.valid() {
			return nil, fmt.Errorf("finding %s (rule %q): invalid severity %d", f.ID, f.RuleID, int(f.Severity))
		}
		if f.RuleID == "" {
			return nil, fmt.Errorf("finding %s: empty rule ID", f.ID)
		}
		if f.Resource.Line < 0 || f.Resource.Column < 0 {
			return nil, fmt.Errorf("finding %s (rule %q): negative line or column", f.ID, f.RuleID)
		}
		// A report must say who accepted a risk: an excepted finding
		// without its exception would be a finding silently hidden.
		if f.Status == StatusExcepted && f.Exception == nil {
			return nil, fmt.Errorf("finding %s (rule %q): excepted without an exception", f.ID, f.RuleID)
		}
	}
	p.Summary = Summarize(p.Findings)
	p.Scores = ComputeScores(&p)
	exposed, err := prepareExposed(r.Exposed, p.Findings)
	if err != nil {
		return nil, err
	}
	p.Exposed = exposed
	return &p, nil
}
