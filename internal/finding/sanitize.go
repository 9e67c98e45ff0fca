package finding

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Strings in findings come from hostile input: resource names and messages
// are copied out of manifests, images and audit events an attacker may
// control. Printed raw, an escape sequence in a pod name could recolour the
// terminal, move the cursor, rewrite the summary line or hide a finding behind
// an OSC 8 hyperlink. cleanText makes such a string inert before the table
// writer prints it. JSON and SARIF need no such step: their encoders escape
// control characters.

// cleanText returns s fit for one line of one table cell: escape sequences
// (CSI, OSC, DCS and the like, in 7-bit and 8-bit form) are removed whole,
// other control and format characters (including bidirectional overrides)
// are dropped, invalid UTF-8 becomes U+FFFD, and runs of white space become
// one space.
func cleanText(s string) string {
	if plainText(s) {
		return s // most strings: no copy
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false // a space is pending: written before the next visible rune
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			r = unicode.ReplacementChar
		}
		switch {
		case r == 0x1b:
			i = skipEscape(s, i+size)
			continue
		case r == 0x9b: // 8-bit CSI
			i = skipCSI(s, i+size)
			continue
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // 8-bit DCS, SOS, OSC, PM, APC
			i = skipString(s, i+size)
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			// Dropped: C0/C1 controls, DEL, bidi overrides, zero-width marks.
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// plainText reports whether cleanText(s) is s: printable ASCII, no white
// space at either end and no two spaces in a row.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return false
		}
	}
	return true
}

// skipEscape returns the index just past the escape sequence whose ESC ends
// at i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipCSI(s, i+1)
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		return skipString(s, i+1)
	case c >= 0x20 && c <= 0x2f: // intermediates, then one final byte: ESC ( B
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	case c >= 0x30 && c <= 0x7e: // two-byte sequence: ESC c, ESC 7, …
		return i + 1
	}
	return i
}

// skipCSI returns the index just past a control sequence whose introducer ends
// at i: parameter and intermediate bytes, then one final byte. A byte that
// cannot be part of the sequence ends it without being consumed.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 0x20 && c <= 0x3f:
			i++
		case c >= 0x40 && c <= 0x7e:
			return i + 1
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past a control string (OSC, DCS, …)
// whose introducer ends at i: it runs to BEL, ESC \ or 8-bit ST, or to the
// end of s when unterminated, since a terminal would swallow the rest too.
func skipString(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x07 || r == 0x9c:
			return i + size
		case r == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i // ESC aborts the string and starts a new sequence
		}
		i += size
	}
	return i
}

// truncate returns s cut to at most n runes, the last being "…" when s was
// cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	cut := 0
	for range n - 1 {
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
	}
	return strings.TrimRight(s[:cut], " ") + "…"
}

// truncateLeft is truncate keeping the end of s, for paths and locations
// whose most telling part is the file name.
func truncateLeft(s string, n int) string {
	count := utf8.RuneCountInString(s)
	if count <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	cut := 0
	for range count - (n - 1) {
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
	}
	return "…" + strings.TrimLeft(s[cut:], " ")
}
