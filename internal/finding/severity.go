package finding

import (
	"fmt"
	"strings"
)

// Severity orders findings. The zero value is Unknown, which sorts below Info:
// a finding whose severity nobody rated must not hide a rated one.
type Severity int

// The severities, in increasing order.
const (
	SeverityUnknown Severity = iota
	SeverityInfo
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"unknown", "info", "low", "medium", "high", "critical"}

// Severities lists every severity from most to least severe.
func Severities() []Severity {
	return []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo, SeverityUnknown}
}

// String returns the lowercase name: "critical", "high", …
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses a severity name, case-insensitively. "moderate" (GitHub
// advisories) is accepted as medium and "informational" as info.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return SeverityCritical, nil
	case "high":
		return SeverityHigh, nil
	case "medium", "moderate":
		return SeverityMedium, nil
	case "low":
		return SeverityLow, nil
	case "info", "informational", "none":
		return SeverityInfo, nil
	case "unknown", "":
		return SeverityUnknown, nil
	}
	return SeverityUnknown, fmt.Errorf("unknown severity %q (want critical, high, medium, low, info or unknown)", s)
}

// MarshalText encodes the severity as its name.
func (s Severity) MarshalText() ([]byte, error) {
	if s < 0 || int(s) >= len(severityNames) {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// valid reports whether s is one of the named severities.
func (s Severity) valid() bool { return s >= SeverityUnknown && s <= SeverityCritical }
