package version

import (
	"regexp"
	"strings"
)

// PEP 440 version order (packaging.python.org "Version specifiers",
// sections "Public version identifiers", "Local version identifiers",
// "Normalization" and "Summary of permitted suffixes and relative ordering"):
//
//	[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]
//
// Input is normalised as PEP 440 requires: case-insensitive, a leading "v",
// alternate spellings (alpha→a, beta→b, c/pre/preview→rc, rev/r→post,
// "-N"→.postN), optional separators and implicit 0 numbers. Release
// segments compare with trailing zeros ignored (1.0 == 1.0.0). Within a
// release: .devN < aN < bN < rcN < (final) < .postN, and a pre-release's own
// .devN sorts before it. A local version sorts after the same public
// version; its segments compare numerically when both are numbers, a number
// sorts after a string.
type pep440 struct {
	epoch   string
	release []string // trailing zeros stripped
	preRank int      // 0 none, 1 a, 2 b, 3 rc
	preNum  string
	hasPost bool
	postNum string
	hasDev  bool
	devNum  string
	local   []string
}

var pep440Pattern = regexp.MustCompile(`(?i)^\s*v?` +
	`(?:(?P<epoch>[0-9]+)!)?` +
	`(?P<release>[0-9]+(?:\.[0-9]+)*)` +
	`(?P<pre>[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?` +
	`(?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?` +
	`(?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?` +
	`(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$`)

func parsePEP440(v string) (pep440, error) {
	m := pep440Pattern.FindStringSubmatch(v)
	if m == nil {
		return pep440{}, invalid("pep440", v, "does not match PEP 440")
	}
	g := func(name string) string { return m[pep440Pattern.SubexpIndex(name)] }
	p := pep440{epoch: g("epoch")}
	if p.epoch == "" {
		p.epoch = "0"
	}
	p.release = strings.Split(g("release"), ".")
	for len(p.release) > 1 && strings.Trim(p.release[len(p.release)-1], "0") == "" {
		p.release = p.release[:len(p.release)-1]
	}
	if g("pre") != "" {
		switch strings.ToLower(g("pre_l")) {
		case "a", "alpha":
			p.preRank = 1
		case "b", "beta":
			p.preRank = 2
		default:
			p.preRank = 3
		}
		p.preNum = zeroIfEmpty(g("pre_n"))
	}
	if g("post") != "" {
		p.hasPost = true
		p.postNum = zeroIfEmpty(g("post_n1") + g("post_n2"))
	}
	if g("dev") != "" {
		p.hasDev = true
		p.devNum = zeroIfEmpty(g("dev_n"))
	}
	if l := g("local"); l != "" {
		p.local = strings.FieldsFunc(strings.ToLower(l), func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	}
	return p, nil
}

func zeroIfEmpty(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func comparePEP440(a, b pep440) int {
	if c := cmpDigits(a.epoch, b.epoch); c != 0 {
		return c
	}
	for i := 0; i < len(a.release) || i < len(b.release); i++ {
		x, y := "0", "0"
		if i < len(a.release) {
			x = a.release[i]
		}
		if i < len(b.release) {
			y = b.release[i]
		}
		if c := cmpDigits(x, y); c != 0 {
			return c
		}
	}
	if c := cmpInt(a.preKey(), b.preKey()); c != 0 {
		return c
	}
	if a.preRank != 0 && b.preRank != 0 {
		if c := cmpDigits(a.preNum, b.preNum); c != 0 {
			return c
		}
	}
	if c := cmpOptional(a.hasPost, a.postNum, b.hasPost, b.postNum, false); c != 0 {
		return c
	}
	if c := cmpOptional(a.hasDev, a.devNum, b.hasDev, b.devNum, true); c != 0 {
		return c
	}
	return compareLocal(a.local, b.local)
}

// preKey ranks the pre-release part: a bare .devN release sorts before any
// pre-release (-1), no pre-release sorts after all (4).
func (p pep440) preKey() int {
	switch {
	case p.preRank == 0 && !p.hasPost && p.hasDev:
		return -1
	case p.preRank == 0:
		return 4
	}
	return p.preRank
}

// cmpOptional compares optional numbers; absent sorts last when absentHigh
// (dev releases), first otherwise (post releases).
func cmpOptional(ha bool, a string, hb bool, b string, absentHigh bool) int {
	switch {
	case !ha && !hb:
		return 0
	case !ha:
		if absentHigh {
			return 1
		}
		return -1
	case !hb:
		if absentHigh {
			return -1
		}
		return 1
	}
	return cmpDigits(a, b)
}

func compareLocal(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		nx, ny := allDigits(x), allDigits(y)
		var c int
		switch {
		case nx && ny:
			c = cmpDigits(x, y)
		case nx:
			c = 1
		case ny:
			c = -1
		default:
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
	return cmpInt(len(a), len(b))
}
