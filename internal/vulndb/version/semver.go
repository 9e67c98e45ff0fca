package version

import "strings"

// SemVer 2.0.0 order (semver.org, §11): MAJOR.MINOR.PATCH compare
// numerically; a version with a pre-release sorts before the same version
// without one; pre-release identifiers compare left to right, numeric ones
// numerically and below alphanumeric ones, which compare in ASCII order, and
// a shorter list of equal identifiers sorts first; build metadata (+…) is
// ignored. Go's "v" prefix and "+incompatible" are accepted, so Go module
// versions, pseudo-versions included, compare as the go command does.
// Missing minor or patch numbers are read as 0 (OSV data and npm ranges
// contain "1.2"), leniency the strict grammar does not allow.
type semver struct {
	major, minor, patch string
	pre                 []string
}

func parseSemver(v string) (semver, error) {
	s := strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		if i == len(s)-1 {
			return semver{}, invalid("semver", v, "empty build metadata")
		}
		s = s[:i]
	}
	var pre string
	if i := strings.IndexByte(s, '-'); i >= 0 {
		s, pre = s[:i], s[i+1:]
		if pre == "" {
			return semver{}, invalid("semver", v, "empty pre-release")
		}
	}
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return semver{}, invalid("semver", v, "more than three numbers")
	}
	for _, p := range parts {
		if !allDigits(p) {
			return semver{}, invalid("semver", v, "not MAJOR.MINOR.PATCH")
		}
	}
	for len(parts) < 3 {
		parts = append(parts, "0")
	}
	sv := semver{major: parts[0], minor: parts[1], patch: parts[2]}
	if pre != "" {
		for id := range strings.SplitSeq(pre, ".") {
			if id == "" {
				return semver{}, invalid("semver", v, "empty pre-release identifier")
			}
			for i := 0; i < len(id); i++ {
				if !isAlnum(id[i]) && id[i] != '-' {
					return semver{}, invalid("semver", v, "invalid character in pre-release")
				}
			}
			sv.pre = append(sv.pre, id)
		}
	}
	return sv, nil
}

func compareSemver(a, b semver) int {
	for _, p := range [][2]string{{a.major, b.major}, {a.minor, b.minor}, {a.patch, b.patch}} {
		if c := cmpDigits(p[0], p[1]); c != 0 {
			return c
		}
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return 0
	case len(a.pre) == 0:
		return 1
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		x, y := a.pre[i], b.pre[i]
		nx, ny := allDigits(x), allDigits(y)
		var c int
		switch {
		case nx && ny:
			c = cmpDigits(x, y)
		case nx:
			c = -1
		case ny:
			c = 1
		default:
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
	return cmpInt(len(a.pre), len(b.pre))
}
