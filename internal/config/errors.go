package config

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// maxErrors caps how many problems one Parse or Validate reports, so that a
// garbage file yields a readable answer instead of a wall of text.
const maxErrors = 50

// Error is one problem in a configuration. Parse, Load and Validate return
// these joined with errors.Join; use errors.As to get at the first, or
// unwrap the join to get all of them.
type Error struct {
	// File is the file name as given to Load or Parse; empty for a
	// configuration built in code.
	File string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Path is the field path, such as "exceptions[1].expires"; empty for
	// problems with the file as a whole.
	Path string
	// Msg says what is wrong, in words meant for the person editing the file.
	Msg string
	// Err is the underlying cause, if any, for errors.Is and errors.As.
	Err error
}

// Error formats the problem as "file:line:col: path: message".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
			if e.Column > 0 {
				b.WriteString(":" + strconv.Itoa(e.Column))
			}
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// joinErrors orders problems by position (problems without one keep their
// order), caps their number and joins them; nil when there are none.
func joinErrors(file string, errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	out := make([]error, 0, min(len(errs), maxErrors+1))
	for i, e := range errs {
		if i == maxErrors {
			out = append(out, &Error{File: file, Msg: fmt.Sprintf("too many errors; %d more not shown", len(errs)-maxErrors)})
			break
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// quote quotes s for an error message, shortening it so that a huge value
// cannot make a huge message.
func quote(s string) string {
	const limit = 64
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return strconv.Quote(s)
}

// suggest returns the known name closest to name, or "" when none is close
// enough to be a likely typo. Case, '-' and '_' are ignored, so that
// "max_db_age" suggests "maxDBAge".
func suggest(name string, known []string) string {
	if len(name) > 64 {
		return ""
	}
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s))
	}
	n := norm(name)
	best, bestDist := "", -1
	for _, k := range known {
		d := editDistance(n, norm(k))
		if bestDist < 0 || d < bestDist || (d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	if bestDist < 0 || bestDist > max(1, len(n)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, over bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
