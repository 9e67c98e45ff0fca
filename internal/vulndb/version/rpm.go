package version

import "strings"

// RPM version order: [epoch:]version[-release], each of version and release
// compared with rpmvercmp (rpm lib/rpmvercmp.c): alphanumeric segments
// separated by anything else; numeric segments compare numerically and beat
// alphabetic ones; '~' sorts before everything, even the end (1.0~rc1 <
// 1.0); '^' sorts after the end but before any other segment (1.0 < 1.0^git1
// < 1.0.1). A missing epoch is 0.
type rpmVersion struct {
	epoch, version, release string
}

func parseRPM(v string) (rpmVersion, error) {
	s := strings.TrimSpace(v)
	if s == "" {
		return rpmVersion{}, invalid("rpm", v, "empty")
	}
	var r rpmVersion
	if e, rest, ok := strings.Cut(s, ":"); ok {
		if !allDigits(e) {
			return rpmVersion{}, invalid("rpm", v, "epoch is not a number")
		}
		r.epoch, s = e, rest
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		r.version, r.release = s[:i], s[i+1:]
	} else {
		r.version = s
	}
	if r.version == "" {
		return rpmVersion{}, invalid("rpm", v, "empty version")
	}
	return r, nil
}

func compareRPM(a, b rpmVersion) int {
	// An absent epoch is 0: cmpDigits ignores leading zeros, so "" == "0".
	if c := cmpDigits(a.epoch, b.epoch); c != 0 {
		return c
	}
	if c := rpmvercmp(a.version, b.version); c != 0 {
		return c
	}
	// A missing release sorts before any release, which keeps the order
	// total (rpm's "missing matches any" would make it intransitive).
	return rpmvercmp(a.release, b.release)
}

func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// rpmvercmp is a transcription of rpm's rpmvercmp.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		ca, cb := byteAt(a, i), byteAt(b, j)
		if ca == '~' || cb == '~' {
			if ca != '~' {
				return 1
			}
			if cb != '~' {
				return -1
			}
			i++
			j++
			continue
		}
		if ca == '^' || cb == '^' {
			if i >= len(a) {
				return -1
			}
			if j >= len(b) {
				return 1
			}
			if ca != '^' {
				return 1
			}
			if cb != '^' {
				return -1
			}
			i++
			j++
			continue
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		si, sj := i, j
		isNum := isDigit(a[i])
		if isNum {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlpha(a[i]) {
				i++
			}
			for j < len(b) && isAlpha(b[j]) {
				j++
			}
		}
		sa, sb := a[si:i], b[sj:j]
		if sb == "" {
			if isNum {
				return 1
			}
			return -1
		}
		var c int
		if isNum {
			c = cmpDigits(sa, sb)
		} else {
			c = strings.Compare(sa, sb)
		}
		if c != 0 {
			return c
		}
	}
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i < len(a):
		return 1
	}
	return -1
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}
