// Package cvss parses CVSS v3.0, v3.1 and v4.0 vector strings and computes
// their base scores from the vector itself, as the FIRST specifications
// define them, so that a finding's severity does not depend on a score some
// database may or may not carry.
package cvss

import (
	"errors"
	"fmt"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
)

// ErrVector is returned (wrapped) for a vector string that is not a valid
// CVSS v3.x or v4.0 vector.
var ErrVector = errors.New("invalid CVSS vector")

// Score parses a CVSS v3.0, v3.1 or v4.0 vector string and returns its base
// score (0.0–10.0, one decimal).
func Score(vector string) (float64, error) {
	switch {
	case strings.HasPrefix(vector, "CVSS:3.0/"), strings.HasPrefix(vector, "CVSS:3.1/"):
		v, err := ParseV3(vector)
		if err != nil {
			return 0, err
		}
		return v.BaseScore(), nil
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		v, err := ParseV4(vector)
		if err != nil {
			return 0, err
		}
		return v.Score(), nil
	}
	return 0, fmt.Errorf("%w %q: want a CVSS:3.0, CVSS:3.1 or CVSS:4.0 prefix", ErrVector, vector)
}

// Rating maps a score to the qualitative rating of the CVSS v3.1 and v4.0
// specifications (section 5 of both): 0.0 none (reported as info),
// 0.1–3.9 low, 4.0–6.9 medium, 7.0–8.9 high, 9.0–10.0 critical.
func Rating(score float64) finding.Severity {
	switch {
	case score >= 9.0:
		return finding.SeverityCritical
	case score >= 7.0:
		return finding.SeverityHigh
	case score >= 4.0:
		return finding.SeverityMedium
	case score >= 0.1:
		return finding.SeverityLow
	default:
		return finding.SeverityInfo
	}
}

// splitMetrics splits "CVSS:x.y/K:V/K:V" after the prefix into an ordered
// list of key/value pairs, rejecting empty parts and duplicate keys.
func splitMetrics(vector, prefix string) ([][2]string, error) {
	rest, ok := strings.CutPrefix(vector, prefix)
	if !ok {
		return nil, fmt.Errorf("%w %q: want prefix %q", ErrVector, vector, prefix)
	}
	parts := strings.Split(rest, "/")
	out := make([][2]string, 0, len(parts))
	seen := make(map[string]bool, len(parts))
	for _, p := range parts {
		k, v, ok := strings.Cut(p, ":")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%w %q: malformed metric %q", ErrVector, vector, p)
		}
		if seen[k] {
			return nil, fmt.Errorf("%w %q: metric %s given twice", ErrVector, vector, k)
		}
		seen[k] = true
		out = append(out, [2]string{k, v})
	}
	return out, nil
}
