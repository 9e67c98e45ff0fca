// Package sharedtest lets tests use the real data in ../shared (advisory
// bundles, audit samples, peer corpora) and the reference tools of the
// machine (dpkg, on every Debian CI machine), and decide what their absence
// means: a skip under plain `go test`, a failure under `make test`, which
// sets PALISADE_REQUIRE_SHARED=1 because CI always has both.
package sharedtest

import (
	"os"
	"testing"
)

// RequireEnv names the variable that turns missing shared data into a failure.
const RequireEnv = "PALISADE_REQUIRE_SHARED"

// Missing skips tb, or fails it when RequireEnv is set.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatalf(format+" ("+RequireEnv+"=1 makes missing shared data a failure)", args...)
	}
	tb.Skipf(format, args...)
}
