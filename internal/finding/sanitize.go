package finding

import (
	"encoding/binary"
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
// space at either end and no two spaces in a row. The table writer asks it
// of every cell, so it reads s eight bytes at a time.
func plainText(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	prevSpace := false // the byte before i is a space
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := word8(s, i)
		if !printableASCII8(w) {
			return false
		}
		// The high bit of each byte of w that is a space (exact: no
		// borrow crosses bytes), then two in a row, within w or across.
		x := w ^ 0x20*byteOnes
		sp := ^((x&byteLows + byteLows) | x | byteLows)
		if sp&(sp<<8) != 0 || prevSpace && sp&0x80 != 0 {
			return false
		}
		prevSpace = sp>>63 != 0
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == ' ' && prevSpace {
			return false
		}
		prevSpace = c == ' '
	}
	return true
}

// asciiLen returns how many bytes s starts with below 0x80, reading eight
// at a time: each is a rune of its own.
func asciiLen(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if word8(s, i)&byteHighs != 0 {
			break
		}
	}
	for ; i < len(s) && s[i] < 0x80; i++ {
	}
	return i
}

// runeCount is utf8.RuneCountInString, faster over an ASCII prefix.
func runeCount(s string) int {
	n := asciiLen(s)
	if n == len(s) {
		return n
	}
	return n + utf8.RuneCountInString(s[n:])
}

// Eight bytes at a time: word8 is s[i:i+8] as a little-endian word, and
// byteOnes, byteHighs and byteLows are 1, the high bit and the other
// bits in each of its bytes.
const (
	byteOnes  = 0x0101010101010101
	byteHighs = 0x8080808080808080
	byteLows  = 0x7f7f7f7f7f7f7f7f
)

func word8(s string, i int) uint64 { return binary.LittleEndian.Uint64([]byte(s[i : i+8])) }

// printableASCII8 reports whether each byte of w is in 0x20–0x7e.
func printableASCII8(w uint64) bool {
	// A byte below 0x20 borrows when 0x20 is taken from it; one of 0x7f or
	// more carries into (or has) its high bit when 1 is added. Neither
	// reaches a neighbour once bytes with the high bit set are ruled out.
	if w&byteHighs != 0 {
		return false
	}
	return (w-0x20*byteOnes)&byteHighs == 0 && (w+byteOnes)&byteHighs == 0
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
// cut. It reads no further into s than the n+1st rune.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s // never more runes than bytes
	}
	if n < 1 {
		return ""
	}
	if asciiLen(s[:n]) == n {
		// n runes and more bytes after them: cut after n-1.
		return strings.TrimRight(s[:n-1], " ") + "…"
	}
	cut, keep := 0, 0 // keep: the bytes of the first n-1 runes
	for k := range n {
		if cut >= len(s) {
			return s
		}
		if k == n-1 {
			keep = cut
		}
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
	}
	if cut >= len(s) {
		return s // exactly n runes
	}
	return strings.TrimRight(s[:keep], " ") + "…"
}

// truncateLeft is truncate keeping the end of s, for paths and locations
// whose most telling part is the file name.
func truncateLeft(s string, n int) string {
	if len(s) <= n {
		return s // never more runes than bytes
	}
	count := runeCount(s)
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
