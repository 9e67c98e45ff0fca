// Package memlimit sets the Go runtime's soft memory limit and collector
// target for a command that holds a whole cluster's objects at once, as
// `posture scan` does, and undoes them.
package memlimit

import (
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultScan is the soft memory target of `posture scan`: with it a scan of 10,000 Deployments with their Services and RBAC (20,401
// objects, 127,500 findings) peaks at ~465 MB RSS instead of ~600 MB for
// ~2% more CPU, because the garbage collector runs before the heap doubles
// rather than after. It is soft: a larger input still completes, the
// collector then working harder (at most half the CPU, Go's cap).
const DefaultScan = "350MiB"

// ScanGCPercent is the collector's proportional target (GOGC) while a
// memory limit bounds the scan: the limit caps the peak, so the heap may
// grow 200% instead of 100% between collections while it is small. On
// the scan above that is ~10% less CPU and wall time at the same peak
// (alternating runs, 4–5 each: 3.88 s CPU against 4.39 s). GOGC, when
// set, wins.
const ScanGCPercent = 200

// Apply sets the soft memory limit to value (a --memory-limit), and with
// it ScanGCPercent, until restore is called (commands run in-process in
// tests must not leave them behind): "0" or "none" leaves the Go runtime's
// limit and GOGC; GOMEMLIMIT, when set, wins over a value not given
// explicitly.
func Apply(value string, explicit bool, getenv func(string) string) (restore func(), err error) {
	restore = func() {}
	if !explicit && getenv("GOMEMLIMIT") != "" {
		return restore, nil
	}
	n, err := ParseByteSize(value)
	if err != nil {
		return restore, fmt.Errorf("--memory-limit: %w", err)
	}
	if n > 0 {
		old := debug.SetMemoryLimit(n)
		restore = func() { debug.SetMemoryLimit(old) }
		if getenv("GOGC") == "" {
			oldPercent := debug.SetGCPercent(ScanGCPercent)
			restore = func() {
				debug.SetGCPercent(oldPercent)
				debug.SetMemoryLimit(old)
			}
		}
	}
	return restore, nil
}

// ParseByteSize reads "350MiB", "1GiB", "500MB", "524288000"; 0 or "none"
// is 0.
func ParseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult, num := 1.0, s
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			mult, num = u.mult, strings.TrimSpace(rest)
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || v*mult > math.MaxInt64 {
		return 0, fmt.Errorf("size %q: want bytes or a number with KiB, MiB, GiB, KB, MB or GB", s)
	}
	return int64(v * mult), nil
}
