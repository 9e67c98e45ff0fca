package version

import "strings"

// Alpine apk version order (apk-tools src/version.c, apk-version(8); the
// scheme follows Gentoo's, PMS §3.2–3.3):
//
//	number{.number}[letter]{_suffix[number]}[~hash][-rN]
//
// Numbers compare numerically, except that a later component with a leading
// zero compares as a decimal fraction (1.01 < 1.1, Gentoo's rule); a version
// with more components is greater when the shared ones are equal; a letter
// sorts after no letter; suffixes order
// _alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p;
// the -rN package revision (default 0) decides last.
type apkVersion struct {
	nums     []string
	letter   byte
	suffixes []apkSuffix
	hash     string
	rev      string
}

type apkSuffix struct {
	rank int    // position in apkSuffixOrder minus apkSuffixNone
	num  string // "" = 0
}

var apkSuffixOrder = []string{"alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p"}

const apkSuffixNone = 4

func parseApk(v string) (apkVersion, error) {
	var a apkVersion
	s := v
	if i := strings.LastIndex(s, "-r"); i >= 0 {
		if !allDigits(s[i+2:]) {
			return a, invalid("apk", v, "revision after -r is not a number")
		}
		a.rev, s = s[i+2:], s[:i]
	}
	if i := strings.IndexByte(s, '~'); i >= 0 {
		a.hash, s = s[i+1:], s[:i]
		if a.hash == "" {
			return a, invalid("apk", v, "empty ~hash")
		}
		for k := 0; k < len(a.hash); k++ {
			if !isDigit(a.hash[k]) && !(a.hash[k] >= 'a' && a.hash[k] <= 'f') {
				return a, invalid("apk", v, "~hash is not hexadecimal")
			}
		}
	}
	main, suf, _ := strings.Cut(s, "_")
	if main == "" {
		return a, invalid("apk", v, "no version number")
	}
	if n := len(main); n > 0 && main[n-1] >= 'a' && main[n-1] <= 'z' {
		a.letter, main = main[n-1], main[:n-1]
	}
	for p := range strings.SplitSeq(main, ".") {
		if !allDigits(p) {
			return a, invalid("apk", v, "version component "+p+" is not a number")
		}
		a.nums = append(a.nums, p)
	}
	if suf == "" && strings.Contains(s, "_") {
		return a, invalid("apk", v, "empty suffix")
	}
	if suf != "" {
		for p := range strings.SplitSeq(suf, "_") {
			name := strings.TrimRight(p, "0123456789")
			num := p[len(name):]
			rank, known := 0, false
			for i, o := range apkSuffixOrder {
				if o != "" && o == name {
					rank, known = i-apkSuffixNone, true
				}
			}
			if !known {
				return a, invalid("apk", v, "unknown suffix _"+p)
			}
			a.suffixes = append(a.suffixes, apkSuffix{rank, num})
		}
	}
	return a, nil
}

func compareApk(a, b apkVersion) int {
	for i := 0; i < len(a.nums) && i < len(b.nums); i++ {
		x, y := a.nums[i], b.nums[i]
		var c int
		if i > 0 && (x[0] == '0' || y[0] == '0') {
			c = strings.Compare(strings.TrimRight(x, "0"), strings.TrimRight(y, "0"))
		} else {
			c = cmpDigits(x, y)
		}
		if c != 0 {
			return c
		}
	}
	if c := cmpInt(len(a.nums), len(b.nums)); c != 0 {
		return c
	}
	if c := cmpInt(int(a.letter), int(b.letter)); c != 0 {
		return c
	}
	for i := 0; i < len(a.suffixes) || i < len(b.suffixes); i++ {
		var x, y apkSuffix
		if i < len(a.suffixes) {
			x = a.suffixes[i]
		}
		if i < len(b.suffixes) {
			y = b.suffixes[i]
		}
		if c := cmpInt(x.rank, y.rank); c != 0 {
			return c
		}
		if c := cmpDigits(zeroIfEmpty(x.num), zeroIfEmpty(y.num)); c != 0 {
			return c
		}
	}
	if c := strings.Compare(a.hash, b.hash); c != 0 {
		return c
	}
	return cmpDigits(zeroIfEmpty(a.rev), zeroIfEmpty(b.rev))
}
