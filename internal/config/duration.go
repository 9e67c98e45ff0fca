package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that palisade.yaml writes with day and week
// units as well as Go's: "7d", "2w", "36h", "1d12h", "90s".
type Duration time.Duration

// Day and Week are the units Go's time package lacks. A day is 24 hours:
// SLAs and database ages are counted in elapsed time, not calendar days.
const (
	Day  = Duration(24 * time.Hour)
	Week = 7 * Day
)

// durationHint is appended to every duration parse error.
const durationHint = "want e.g. 7d, 12h or 30m; units w, d, h, m, s, ms, us, ns"

// ParseDuration parses a duration: a sequence of decimal numbers, each with
// a unit (w, d, h, m, s, ms, us, µs, ns), optionally signed, such as "7d",
// "1d12h" or "-1.5h". "0" alone needs no unit.
func ParseDuration(s string) (Duration, error) {
	orig := s
	if s == "" {
		return 0, fmt.Errorf("empty duration (%s)", durationHint)
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, fmt.Errorf("cannot parse %s as a duration (%s)", quote(orig), durationHint)
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && (s[i] == '.' || ('0' <= s[i] && s[i] <= '9')) {
			i++
		}
		num := s[:i]
		j := i
		for j < len(s) && s[j] != '.' && (s[j] < '0' || s[j] > '9') {
			j++
		}
		unit := s[i:j]
		s = s[j:]
		if num == "" || num == "." || strings.Count(num, ".") > 1 {
			return 0, fmt.Errorf("cannot parse %s as a duration (%s)", quote(orig), durationHint)
		}
		if unit == "" {
			return 0, fmt.Errorf("cannot parse %s as a duration: missing unit after %s (%s)", quote(orig), num, durationHint)
		}
		factor := time.Duration(1)
		switch unit {
		case "d":
			unit, factor = "h", 24
		case "w":
			unit, factor = "h", 7*24
		case "ns", "us", "µs", "μs", "ms", "s", "m", "h":
		default:
			return 0, fmt.Errorf("cannot parse %s as a duration: unknown unit %s (%s)", quote(orig), quote(unit), durationHint)
		}
		v, err := time.ParseDuration(num + unit)
		if err != nil {
			// num is well formed, so the number is too big for time.
			return 0, fmt.Errorf("duration %s is too long", quote(orig))
		}
		if v > math.MaxInt64/factor || total > math.MaxInt64-v*factor {
			return 0, fmt.Errorf("duration %s is too long", quote(orig))
		}
		total += v * factor
	}
	if neg {
		total = -total
	}
	return Duration(total), nil
}

// String formats d in whole days ("7d") when it is a whole number of days,
// and as time.Duration does otherwise ("36h0m0s"). ParseDuration reads
// every result back to the same value.
func (d Duration) String() string {
	if d != 0 && d%Day == 0 {
		return strconv.FormatInt(int64(d/Day), 10) + "d"
	}
	return time.Duration(d).String()
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalText encodes d as String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes d as ParseDuration does.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
