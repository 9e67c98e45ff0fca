package memlimit

import (
	"runtime/debug"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"350MiB", 350 << 20, false}, {"1GiB", 1 << 30, false}, {"500MB", 500e6, false}, {"1.5 GiB", 3 << 29, false},
		{"524288000", 524288000, false}, {"0", 0, false}, {"none", 0, false}, {"", 0, false},
		{"-1MiB", 0, true}, {"lots", 0, true}, {"12XB", 0, true}, {"1e30GB", 0, true},
	} {
		got, err := ParseByteSize(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// TestMemoryLimitRestored checks that the limit a command sets is undone
// (commands run in-process in tests), and that GOMEMLIMIT wins over the
// default but not over the flag.
func TestMemoryLimitRestored(t *testing.T) {
	before, beforePercent := debug.SetMemoryLimit(-1), gcPercent()
	env := func(v string) func(string) string { return func(string) string { return v } }
	restore, err := Apply("123MiB", false, env(""))
	if err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 123<<20 {
		t.Errorf("limit %d, want 123 MiB", got)
	}
	if got := gcPercent(); got != ScanGCPercent {
		t.Errorf("GOGC %d under the limit, want %d", got, ScanGCPercent)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit %d after restore, want %d", got, before)
	}
	if got := gcPercent(); got != beforePercent {
		t.Errorf("GOGC %d after restore, want %d", got, beforePercent)
	}
	restore, _ = Apply("123MiB", false, env("1GiB"))
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("GOMEMLIMIT set: the default changed the limit to %d", got)
	}
	restore()
	restore, _ = Apply("77MiB", true, env("1GiB"))
	if got := debug.SetMemoryLimit(-1); got != 77<<20 {
		t.Errorf("explicit flag: limit %d, want 77 MiB", got)
	}
	if got := gcPercent(); got != beforePercent {
		t.Errorf("GOGC set in the environment: the scan changed it to %d", got)
	}
	restore()
	if _, err := Apply("huge", true, env("")); err == nil {
		t.Error("a bad size was accepted")
	}
}

// gcPercent reads the collector's GOGC (setting it back at once).
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}
