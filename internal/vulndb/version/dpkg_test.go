package version

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/palisade-sec/palisade/internal/sharedtest"
)

// Cases from deb-version(7), Debian Policy §5.6.12 and dpkg's own test suite
// (lib/dpkg/t/t-version.c).
func TestDpkgOrder(t *testing.T) {
	runOrder(t, Dpkg(), []orderCase{
		{"1.0", "1.0", 0},
		{"1.0", "1.0-0", 0}, // an absent revision is an empty one; "0" compares equal
		{"0:1.0", "1.0", 0}, // the epoch defaults to 0
		{"1:0.1", "9.9", 1}, // the epoch wins
		{"2:1.0", "10:1.0", -1},
		{"1.0~rc1", "1.0", -1}, // ~ sorts before the end of the string
		{"1.0~~", "1.0~~a", -1},
		{"1.0~~a", "1.0~", -1},
		{"1.0~", "1.0", -1},
		{"1.0", "1.0a", -1},  // the end sorts before a letter
		{"1.0a", "1.0+", -1}, // letters sort before non-letters
		{"1.0+", "1.0.", -1}, // non-letters by ASCII + 256
		{"1.0-1", "1.0-2", -1},
		{"1.0-1", "1.0-1.1", -1},
		{"1.0-1ubuntu1", "1.0-1", 1},
		{"1.2.3", "1.10", -1}, // digits compare numerically
		{"1.002", "1.2", 0},   // leading zeros do not count
		{"2.36.1-8", "2.36.1-8+deb12u1", -1},
		{"3.0.11-1~deb12u2", "3.0.11-1", -1},
		{"1.2.13.dfsg-1", "1:1.2.11.dfsg-2+deb11u2", -1},
		{"15.5+cvs20050816-1.1", "15.8b-3", -1},
		{"1.0-a-1", "1.0-a-2", -1}, // the revision starts after the last hyphen
	})
	runInvalid(t, Dpkg(), []string{"", "a:1.0", "1.0-", "1 0", "-1", "1.0_1"})
}

// TestDpkgAgainstDpkg compares random version pairs with the real
// `dpkg --compare-versions` when dpkg is installed.
func TestDpkgAgainstDpkg(t *testing.T) {
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		sharedtest.Missing(t, "dpkg not installed: %v", err)
	}
	if testing.Short() {
		t.Skip("runs dpkg many times")
	}
	r := rand.New(rand.NewPCG(1, 2))
	atoms := []string{"0", "1", "2", "10", "01", "a", "b", "z", "~", "~~", "+", ".", "-", "~rc1", "+deb12u1", "ubuntu"}
	gen := func() string {
		s := fmt.Sprint(r.IntN(3))
		for range r.IntN(6) {
			s += atoms[r.IntN(len(atoms))]
		}
		if r.IntN(4) == 0 {
			s = fmt.Sprint(r.IntN(3)) + ":" + s
		}
		return s
	}
	n := 0
	for n < 150 {
		a, b := gen(), gen()
		got, err := Dpkg().Compare(a, b)
		if err != nil {
			continue
		}
		n++
		want := 0
		for _, op := range []struct {
			op string
			v  int
		}{{"lt", -1}, {"gt", 1}} {
			if exec.Command(dpkg, "--compare-versions", a, op.op, b).Run() == nil {
				want = op.v
			}
		}
		if got != want {
			t.Errorf("Compare(%q, %q) = %d, dpkg says %d", a, b, got, want)
		}
	}
}
