package version

import (
	"strconv"
	"strings"
)

// Maven version order: org.apache.maven.artifact.versioning.ComparableVersion
// as specified in the POM reference, "Version Order Specification":
// the version is split into numbers and qualifiers at '.', '-' and at
// transitions between digits and letters (a transition or '-' starts a
// sub-list); trailing "null" items (0, "", "final", "ga", "release") are
// trimmed from each list; numbers compare numerically and padding uses
// nulls; qualifiers order
// alpha < beta < milestone < rc = cr < snapshot < "" = final = ga = release < sp,
// other qualifiers after sp, alphabetically; a, b and m directly followed by
// a digit mean alpha, beta and milestone. Between kinds:
// ".qualifier" = "-qualifier" < "-number" < ".number".
type mavenItem interface {
	// compare returns the order of the item against other; other == nil
	// compares against the null item used for padding.
	compare(other mavenItem) int
	isNull() bool
}

type mavenInt string // digits without leading zeros; "" is 0

type mavenString string // the comparable qualifier key

type mavenList struct{ items []mavenItem }

var mavenQualifiers = []string{"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"}

const mavenReleaseIndex = "5"

func newMavenString(s string, followedByDigit bool) mavenString {
	if followedByDigit && len(s) == 1 {
		switch s {
		case "a":
			s = "alpha"
		case "b":
			s = "beta"
		case "m":
			s = "milestone"
		}
	}
	switch s {
	case "ga", "final", "release":
		s = ""
	case "cr":
		s = "rc"
	}
	return mavenString(s)
}

// key is ComparableVersion's comparableQualifier: the index of a known
// qualifier, or "7-qualifier" for the others, compared as strings.
func (s mavenString) key() string {
	for i, q := range mavenQualifiers {
		if string(s) == q {
			return strconv.Itoa(i)
		}
	}
	return strconv.Itoa(len(mavenQualifiers)) + "-" + string(s)
}

func (i mavenInt) isNull() bool    { return i == "" }
func (s mavenString) isNull() bool { return s == "" }
func (l *mavenList) isNull() bool  { return len(l.items) == 0 }

func (i mavenInt) compare(o mavenItem) int {
	switch o := o.(type) {
	case nil:
		if i == "" {
			return 0
		}
		return 1
	case mavenInt:
		return cmpDigits(zeroIfEmpty(string(i)), zeroIfEmpty(string(o)))
	}
	return 1 // a number sorts after a qualifier or a list
}

func (s mavenString) compare(o mavenItem) int {
	switch o := o.(type) {
	case nil:
		return strings.Compare(s.key(), mavenReleaseIndex)
	case mavenString:
		return strings.Compare(s.key(), o.key())
	}
	return -1 // a qualifier sorts before a number or a list
}

func (l *mavenList) compare(o mavenItem) int {
	switch o := o.(type) {
	case nil:
		if len(l.items) == 0 {
			return 0
		}
		return l.items[0].compare(nil)
	case mavenInt:
		return -1
	case mavenString:
		return 1
	case *mavenList:
		for k := 0; k < len(l.items) || k < len(o.items); k++ {
			var x, y mavenItem
			if k < len(l.items) {
				x = l.items[k]
			}
			if k < len(o.items) {
				y = o.items[k]
			}
			var c int
			switch {
			case x == nil && y == nil:
				c = 0
			case x == nil:
				c = -y.compare(nil)
			default:
				c = x.compare(y)
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
	return 0
}

// normalize trims trailing null items, stopping at the first non-null
// item that is not a list (ComparableVersion.ListItem.normalize).
func (l *mavenList) normalize() {
	for i := len(l.items) - 1; i >= 0; i-- {
		if l.items[i].isNull() {
			l.items = append(l.items[:i], l.items[i+1:]...)
		} else if _, ok := l.items[i].(*mavenList); !ok {
			break
		}
	}
}

func parseMavenItem(isDigit bool, s string) mavenItem {
	if isDigit {
		return mavenInt(strings.TrimLeft(s, "0"))
	}
	return newMavenString(s, false)
}

// parseMaven is ComparableVersion.parseVersion (Maven 3.8).
func parseMaven(v string) (*mavenList, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	if s == "" {
		return nil, invalid("maven", v, "empty")
	}
	root := &mavenList{}
	list := root
	stack := []*mavenList{root}
	digit := false
	start := 0
	push := func() {
		n := &mavenList{}
		list.items = append(list.items, n)
		list = n
		stack = append(stack, n)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if i == start {
				list.items = append(list.items, mavenInt(""))
			} else {
				list.items = append(list.items, parseMavenItem(digit, s[start:i]))
			}
			start = i + 1
		case c == '-':
			if i == start {
				list.items = append(list.items, mavenInt(""))
			} else {
				list.items = append(list.items, parseMavenItem(digit, s[start:i]))
			}
			start = i + 1
			push()
		case isDigit(c):
			if !digit && i > start {
				list.items = append(list.items, newMavenString(s[start:i], true))
				start = i
				push()
			}
			digit = true
		default:
			if digit && i > start {
				list.items = append(list.items, parseMavenItem(true, s[start:i]))
				start = i
				push()
			}
			digit = false
		}
	}
	if len(s) > start {
		list.items = append(list.items, parseMavenItem(digit, s[start:]))
	}
	for k := len(stack) - 1; k >= 0; k-- {
		stack[k].normalize()
	}
	return root, nil
}

func compareMaven(a, b *mavenList) int { return a.compare(b) }
