package config

import (
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
)

// Limit returns the limit for severity s: a count, or Unlimited. Info is
// always Unlimited.
func (l SeverityLimits) Limit(s finding.Severity) int {
	switch s {
	case finding.SeverityCritical:
		return l.Critical
	case finding.SeverityHigh:
		return l.High
	case finding.SeverityMedium:
		return l.Medium
	case finding.SeverityLow:
		return l.Low
	case finding.SeverityUnknown:
		return l.Unknown
	}
	return Unlimited
}

// Exceeded returns the severities whose count in counts is over its limit,
// most severe first.
func (l SeverityLimits) Exceeded(counts map[finding.Severity]int) []finding.Severity {
	var over []finding.Severity
	for _, s := range finding.Severities() {
		if lim := l.Limit(s); lim != Unlimited && counts[s] > lim {
			over = append(over, s)
		}
	}
	return over
}

// For returns the SLA for severity s; 0 means none. Info has none.
func (s SLA) For(sev finding.Severity) Duration {
	switch sev {
	case finding.SeverityCritical:
		return s.Critical
	case finding.SeverityHigh:
		return s.High
	case finding.SeverityMedium:
		return s.Medium
	case finding.SeverityLow:
		return s.Low
	case finding.SeverityUnknown:
		return s.Unknown
	}
	return 0
}

// Deadline returns when a finding of severity sev first seen at firstSeen
// is due, and false when sev has no SLA.
func (s SLA) Deadline(sev finding.Severity, firstSeen time.Time) (time.Time, bool) {
	d := s.For(sev)
	if d <= 0 {
		return time.Time{}, false
	}
	return firstSeen.Add(time.Duration(d)), true
}
