package version

import "testing"

// Cases from semver.org §11, Go's golang.org/x/mod/semver tests and npm's
// node-semver.
func TestSemVerOrder(t *testing.T) {
	runOrder(t, SemVer(), []orderCase{
		// semver.org §11 example chain.
		{"1.0.0-alpha", "1.0.0-alpha.1", -1},
		{"1.0.0-alpha.1", "1.0.0-alpha.beta", -1},
		{"1.0.0-alpha.beta", "1.0.0-beta", -1},
		{"1.0.0-beta", "1.0.0-beta.2", -1},
		{"1.0.0-beta.2", "1.0.0-beta.11", -1},
		{"1.0.0-beta.11", "1.0.0-rc.1", -1},
		{"1.0.0-rc.1", "1.0.0", -1},
		{"1.9.0", "1.10.0", -1},
		{"1.10.0", "1.11.0", -1},
		{"1.0.0+build.1", "1.0.0+build.2", 0}, // build metadata is ignored
		{"1.0.0-1", "1.0.0-a", -1},            // numeric below alphanumeric
		{"1.0.0-a-b", "1.0.0-a", 1},
		// Go module versions.
		{"v0.3.7", "0.3.8", -1},
		{"v0.3.8", "0.3.8", 0},
		{"v2.0.0+incompatible", "2.0.0", 0},
		{"v0.0.0-20210101000000-abcdefabcdef", "0.0.1", -1},
		{"v0.0.0-20210101000000-abcdefabcdef", "0.0.0-20220101000000-abcdefabcdef", -1},
		{"v1.2.4-0.20200101000000-abcdefabcdef", "1.2.4", -1}, // pseudo-version after v1.2.3
		{"v1.2.4-0.20200101000000-abcdefabcdef", "1.2.3", 1},
		{"1.21.0-rc.2", "1.21.0", -1},
		{"18446744073709551616.0.0", "18446744073709551615.0.0", 1}, // beyond uint64
		// Leniency: missing numbers are 0.
		{"1.2", "1.2.0", 0},
		{"1", "1.0.0", 0},
	})
	runInvalid(t, SemVer(), []string{"", "1.2.3.4", "1.2.x", "1.0.0-", "1.0.0-a..b", "1.0.0+", "v", "1.0.0-é"})
}
