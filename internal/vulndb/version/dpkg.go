package version

import "strings"

// Debian version order, as dpkg implements it (deb-version(7), Debian Policy
// §5.6.12): [epoch:]upstream_version[-debian_revision]. The epoch compares
// numerically; upstream version and revision compare with verrevcmp: runs
// of non-digits character by character, where '~' sorts before everything,
// even the end of the string, letters sort before non-letters, then runs of
// digits numerically.
type dpkgVersion struct {
	epoch    string
	upstream string
	revision string
}

func parseDpkg(v string) (dpkgVersion, error) {
	s := strings.TrimSpace(v)
	if s == "" {
		return dpkgVersion{}, invalid("dpkg", v, "empty")
	}
	if strings.ContainsAny(s, " \t\n") {
		return dpkgVersion{}, invalid("dpkg", v, "contains whitespace")
	}
	var d dpkgVersion
	if e, rest, ok := strings.Cut(s, ":"); ok {
		if !allDigits(e) {
			return dpkgVersion{}, invalid("dpkg", v, "epoch is not a number")
		}
		d.epoch, s = e, rest
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		d.upstream, d.revision = s[:i], s[i+1:]
		if d.revision == "" {
			return dpkgVersion{}, invalid("dpkg", v, "empty revision")
		}
	} else {
		d.upstream = s
	}
	if d.upstream == "" {
		return dpkgVersion{}, invalid("dpkg", v, "empty upstream version")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !isAlpha(c) && !strings.ContainsRune(".+-~:", rune(c)) {
			return dpkgVersion{}, invalid("dpkg", v, "invalid character "+string(rune(c)))
		}
	}
	return d, nil
}

func compareDpkg(a, b dpkgVersion) int {
	// An absent epoch is 0: cmpDigits ignores leading zeros, so "" == "0".
	if c := cmpDigits(a.epoch, b.epoch); c != 0 {
		return c
	}
	if c := verrevcmp(a.upstream, b.upstream); c != 0 {
		return c
	}
	return verrevcmp(a.revision, b.revision)
}

// dpkgOrder is dpkg's order() of one character of a non-digit run.
func dpkgOrder(c int) int {
	switch {
	case c == 0:
		return 0
	case isDigit(byte(c)):
		return 0
	case isAlpha(byte(c)):
		return c
	case c == '~':
		return -1
	}
	return c + 256
}

// verrevcmp is dpkg's lib/dpkg/version.c verrevcmp.
func verrevcmp(a, b string) int {
	i, j := 0, 0
	at := func(s string, k int) int {
		if k < len(s) {
			return int(s[k])
		}
		return 0
	}
	for i < len(a) || j < len(b) {
		firstDiff := 0
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := dpkgOrder(at(a, i)), dpkgOrder(at(b, j))
			if ac != bc {
				return cmpInt(ac, bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		for i < len(a) && isDigit(a[i]) && j < len(b) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = cmpInt(int(a[i]), int(b[j]))
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			return firstDiff
		}
	}
	return 0
}
