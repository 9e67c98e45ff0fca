package version

import "testing"

// Cases from the POM reference "Version Order Specification" and Maven's
// ComparableVersionTest.
func TestMavenOrder(t *testing.T) {
	runOrder(t, Maven(), []orderCase{
		// Specification examples.
		{"1", "1.1", -1},
		{"1-snapshot", "1", -1},
		{"1", "1-sp", -1},
		{"1-foo2", "1-foo10", -1},
		// The specification text also says "1.foo" = "1-foo" and "1-ga-1" =
		// "1-1"; ComparableVersion, which Maven runs, orders both pairs
		// (1.foo < 1-foo, 1-ga-1 < 1-1), and we follow Maven.
		{"1.foo", "1-foo", -1},
		{"1-foo", "1-1", -1},
		{"1-1", "1.1", -1},
		{"1.ga", "1-ga", 0},
		{"1-ga", "1-0", 0},
		{"1-0", "1.0", 0},
		{"1.0", "1", 0},
		{"1-sp", "1-ga", 1},
		{"1-sp.1", "1-ga.1", 1},
		{"1-sp-1", "1-ga-1", -1},
		{"1-ga-1", "1-1", -1},
		{"1-a1", "1-alpha-1", 0},
		{"1.0.0", "1", 0},
		{"1.0-final", "1", 0},
		{"1.0.release", "1", 0},
		// Qualifier order: alpha < beta < milestone < rc = cr < snapshot < "" < sp.
		{"1.0-alpha-1", "1.0-beta-1", -1},
		{"1.0-beta-1", "1.0-milestone-1", -1},
		{"1.0-milestone-1", "1.0-rc-1", -1},
		{"1.0-rc-1", "1.0-cr-1", 0},
		{"1.0-rc-1", "1.0-snapshot", -1},
		{"1.0-snapshot", "1.0", -1},
		{"1.0", "1.0-sp-1", -1},
		{"1.0-sp-1", "1.0-abc", -1}, // unknown qualifiers after sp
		{"1.0-RC1", "1.0-rc1", 0},   // case-insensitive
		{"2.0.0.RELEASE", "2.0.0", 0},
		// Numeric padding and big numbers.
		{"1.9", "1.10", -1},
		{"1.0.1", "1.0.0.1", 1},
		{"2.12.7.1", "2.12.7", 1},
		{"2.13.4.2", "2.13.5", -1},
		{"99999999999999999999999", "100000000000000000000000", -1},
		// Real advisories: log4j-core fixed in 2.15.0, jackson-databind.
		{"2.14.1", "2.15.0", -1},
		{"2.15.0-rc1", "2.15.0", -1},
		{"2.9.10.8", "2.9.10", 1},
	})
	runInvalid(t, Maven(), []string{"", "  "})
}
