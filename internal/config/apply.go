package config

import (
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
)

// ApplyResult says what a set of exceptions did to a set of findings, so
// that a report can list accepted risks, say "exception X expired on D and
// no longer applies", and point at exceptions nobody needs any more.
type ApplyResult struct {
	// Used lists the unexpired exceptions that matched at least one
	// finding, in the order given.
	Used []ExceptionUse
	// Expired lists every expired exception, in the order given, with the
	// findings it would still match: those stay open unless an unexpired
	// exception covers them too.
	Expired []ExceptionUse
	// Stale lists the unexpired exceptions that matched no finding.
	Stale []Exception
}

// ExceptionUse is an exception and the IDs of the findings it matched.
type ExceptionUse struct {
	Exception Exception
	Findings  []string
}

// ApplyExceptions marks each finding that an unexpired exception matches as
// excepted, recording the first such exception (in the order given). A
// finding matched only by expired exceptions stays open. A finding that an
// earlier run excepted with one of excs is judged again, so re-applying
// after an exception expired reopens it; a finding excepted by anything
// else is left alone. labelsOf returns a resource's labels, or nil when
// they are unknown; labelsOf itself may be nil.
func ApplyExceptions(now time.Time, excs []Exception, fs []finding.Finding, labelsOf func(finding.Resource) map[string]string) ApplyResult {
	compiled := make([]Exception, len(excs))
	ours := make(map[string]bool, len(excs))
	active := make([]bool, len(excs))
	for i := range excs {
		compiled[i] = excs[i]
		compiled[i].Match.compile()
		ours[compiled[i].Ref().ID] = true
		active[i] = !excs[i].Expired(now)
	}
	hits := make([][]string, len(excs))
	for i := range fs {
		f := &fs[i]
		if f.Status == finding.StatusExcepted && (f.Exception == nil || !ours[f.Exception.ID]) {
			continue // excepted by someone else
		}
		var labels map[string]string
		labelsDone := false
		id := f.ID // computed when an exception matches: most findings match none
		applied := -1
		for j := range compiled {
			e := &compiled[j]
			if e.Match.Labels != "" && !labelsDone {
				if labelsOf != nil {
					labels = labelsOf(f.Resource)
				}
				labelsDone = true
			}
			if !e.Matches(f, labels) {
				continue
			}
			if id == "" {
				id = finding.ComputeID(f)
			}
			hits[j] = append(hits[j], id)
			if applied < 0 && active[j] {
				applied = j
			}
		}
		switch {
		case applied >= 0:
			ref := excs[applied].Ref()
			f.Status, f.Exception = finding.StatusExcepted, &ref
		case f.Status == finding.StatusExcepted:
			f.Status, f.Exception = finding.StatusOpen, nil
		}
	}
	var res ApplyResult
	for j := range excs {
		switch {
		case !active[j]:
			res.Expired = append(res.Expired, ExceptionUse{Exception: excs[j], Findings: hits[j]})
		case len(hits[j]) > 0:
			res.Used = append(res.Used, ExceptionUse{Exception: excs[j], Findings: hits[j]})
		default:
			res.Stale = append(res.Stale, excs[j])
		}
	}
	return res
}
