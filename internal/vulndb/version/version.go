// Package version compares package versions the way each ecosystem defines
// its own order: dpkg for Debian and Ubuntu, apk for Alpine, rpmvercmp for
// RPM distributions, SemVer 2.0 for Go modules, npm and crates.io, PEP 440
// for PyPI and Maven's ComparableVersion for Maven. One file per ecosystem,
// each citing the specification it implements.
package version

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is returned (wrapped) for a string that is not a version of the
// comparator's ecosystem.
var ErrInvalid = errors.New("invalid version")

// Comparator orders the versions of one ecosystem.
type Comparator interface {
	// Name is the version scheme: "dpkg", "apk", "rpm", "semver", "pep440", "maven".
	Name() string
	// Compare returns -1, 0 or +1 as a sorts before, equal to or after b.
	// It returns an error wrapping ErrInvalid when either is not a valid
	// version; the order of valid versions is total.
	Compare(a, b string) (int, error)
}

// comparator adapts a parse function and a compare function of parsed
// values to Comparator.
type comparator[T any] struct {
	name    string
	parse   func(string) (T, error)
	compare func(a, b T) int
}

// Name implements Comparator.
func (c comparator[T]) Name() string { return c.name }

// Compare implements Comparator.
func (c comparator[T]) Compare(a, b string) (int, error) {
	pa, err := c.parse(a)
	if err != nil {
		return 0, err
	}
	pb, err := c.parse(b)
	if err != nil {
		return 0, err
	}
	return c.compare(pa, pb), nil
}

// Dpkg returns the Debian/Ubuntu comparator.
func Dpkg() Comparator { return comparator[dpkgVersion]{"dpkg", parseDpkg, compareDpkg} }

// Apk returns the Alpine comparator.
func Apk() Comparator { return comparator[apkVersion]{"apk", parseApk, compareApk} }

// RPM returns the comparator of RPM-based distributions.
func RPM() Comparator { return comparator[rpmVersion]{"rpm", parseRPM, compareRPM} }

// SemVer returns the SemVer 2.0 comparator (Go modules, npm, crates.io).
func SemVer() Comparator { return comparator[semver]{"semver", parseSemver, compareSemver} }

// PEP440 returns the PyPI comparator.
func PEP440() Comparator { return comparator[pep440]{"pep440", parsePEP440, comparePEP440} }

// Maven returns the Maven comparator.
func Maven() Comparator { return comparator[*mavenList]{"maven", parseMaven, compareMaven} }

// ForEcosystem returns the comparator of an OSV ecosystem name. The release
// suffix is ignored: "Debian:12" and "Debian" both use dpkg order.
func ForEcosystem(ecosystem string) (Comparator, bool) {
	base, _, _ := strings.Cut(ecosystem, ":")
	switch base {
	case "Debian", "Ubuntu":
		return Dpkg(), true
	case "Alpine", "Wolfi", "Chainguard":
		return Apk(), true
	case "Red Hat", "Rocky Linux", "AlmaLinux", "openSUSE", "SUSE", "Mageia", "Photon OS", "openEuler":
		return RPM(), true
	case "Go", "npm", "crates.io", "Hex", "Pub", "SwiftURL":
		return SemVer(), true
	case "PyPI":
		return PEP440(), true
	case "Maven":
		return Maven(), true
	}
	return nil, false
}

func invalid(scheme, v, why string) error {
	return fmt.Errorf("%w %s version %q: %s", ErrInvalid, scheme, v, why)
}

// cmpInt returns -1, 0 or +1.
func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpDigits compares two non-empty strings of ASCII digits as unbounded
// natural numbers.
func cmpDigits(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if c := cmpInt(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// Cached returns a comparator that remembers the parse of every version it
// sees, for one matching pass over many advisories that repeat the same
// versions (PyPI and Go advisories list hundreds each). It is not safe for
// concurrent use; make one per goroutine.
func Cached(c Comparator) Comparator {
	if cc, ok := c.(interface{ cached() Comparator }); ok {
		return cc.cached()
	}
	return c
}

type parsed[T any] struct {
	v   T
	err error
}

type cachedComparator[T any] struct {
	comparator[T]
	m map[string]parsed[T]
}

func (c comparator[T]) cached() Comparator {
	return &cachedComparator[T]{comparator: c, m: map[string]parsed[T]{}}
}

func (c *cachedComparator[T]) parseCached(s string) (T, error) {
	if p, ok := c.m[s]; ok {
		return p.v, p.err
	}
	v, err := c.parse(s)
	if len(c.m) < 1<<16 {
		c.m[s] = parsed[T]{v, err}
	}
	return v, err
}

// Compare implements Comparator with memoized parses.
func (c *cachedComparator[T]) Compare(a, b string) (int, error) {
	pa, err := c.parseCached(a)
	if err != nil {
		return 0, err
	}
	pb, err := c.parseCached(b)
	if err != nil {
		return 0, err
	}
	return c.compare(pa, pb), nil
}
