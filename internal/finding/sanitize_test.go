package finding

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello world", "hello world"},
		{"unicode kept", "Grüße, 世界 ✓", "Grüße, 世界 ✓"},
		{"whitespace collapsed", "  a\t\tb\n\nc\r\n ", "a b c"},
		{"SGR colour", "\x1b[31mred\x1b[0m", "red"},
		{"cursor movement and erase", "a\x1b[1A\x1b[2Kb\x1b[10;20H", "ab"},
		{"clear screen", "\x1b[2J\x1b[Hx", "x"},
		{"private CSI", "\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor"},
		{"OSC title with BEL", "\x1b]0;pwned\x07title", "title"},
		{"OSC 8 hyperlink with ST", "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"unterminated OSC swallows rest", "ok\x1b]0;never ends", "ok"},
		{"OSC aborted by ESC", "\x1b]0;t\x1b[31mx", "x"},
		{"DCS", "\x1bPq#0;2;0;0;0\x1b\\after", "after"},
		{"charset designation", "\x1b(Bx", "x"},
		{"two-byte escape", "\x1bcreset", "reset"},
		{"trailing ESC", "x\x1b", "x"},
		{"8-bit CSI", "\u009b31mred", "red"},
		{"8-bit OSC", "\u009d0;t\u009cx", "x"},
		{"C0 and DEL", "a\x00b\x07c\x08d\x7fe", "abcde"},
		{"bidi override", "\u202egnirts\u202c \u2066x\u2069", "gnirts x"},
		{"zero width", "a\u200bb\ufeffc", "abc"},
		{"invalid UTF-8", "a\xffb", "a\ufffdb"},
		{"tabwriter escape byte", "a\xffb\tc", "a\ufffdb c"},
		{"line separators", "a\u2028b\u2029c\u0085d", "a b c d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanText(tt.in); got != tt.want {
				t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in         string
		n          int
		want, left string
	}{
		{"short", 10, "short", "short"},
		{"exactly10!", 10, "exactly10!", "exactly10!"},
		{"abcdefghijk", 5, "abcd…", "…hijk"},
		{"ab   defghijk", 5, "ab…", "…hijk"},
		{"äöüßéèàç", 4, "äöü…", "…èàç"},
		{"abc", 1, "…", "…"},
		{"abc", 0, "", ""},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if got := truncateLeft(tt.in, tt.n); got != tt.left {
			t.Errorf("truncateLeft(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.left)
		}
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[31mx", "\x1b]8;;u\x1b\\l", "\u009b1m", "\xff\xfe", "a\tb\nc", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := cleanText(in)
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || (unicode.IsSpace(r) && r != ' ') {
				t.Fatalf("cleanText(%q) = %q contains %U", in, out, r)
			}
		}
		if strings.Contains(out, "  ") || strings.TrimSpace(out) != out {
			t.Fatalf("cleanText(%q) = %q: white space not collapsed", in, out)
		}
		if again := cleanText(out); again != out {
			t.Fatalf("cleanText not idempotent: %q then %q", out, again)
		}
	})
}

// FuzzPlainTextTruncate holds plainText, runeCount and truncate to their
// plain definitions: cleanText leaving s as it is, utf8's count, and the
// first n-1 runes.
func FuzzPlainTextTruncate(f *testing.F) {
	for _, s := range []string{"", "plain text", " lead", "trail ", "two  spaces", "tab\there", "\x7f", "äöü", "exactly eight!!", "~}|{zyx 0123456789", "1234567  9abcdefgh", "12345678 9 123456  x", "a b c d e f g h i j k"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n > 1<<16 || n < -1 {
			return
		}
		want := true
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < 0x20 || c > 0x7e || c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
				want = false
				break
			}
		}
		if got, want := runeCount(s), utf8.RuneCountInString(s); got != want {
			t.Fatalf("runeCount(%q) = %d, want %d", s, got, want)
		}
		if got := plainText(s); got != want {
			t.Fatalf("plainText(%q) = %v, want %v", s, got, want)
		}
		runes := []rune(s)
		wantCut := s
		switch {
		case len(runes) <= n:
		case n < 1:
			wantCut = ""
		default:
			wantCut = strings.TrimRight(string(runes[:n-1]), " ") + "…"
			if !utf8.ValidString(s) {
				return // []rune maps invalid bytes to U+FFFD; truncate keeps them
			}
		}
		if got := truncate(s, n); got != wantCut {
			t.Fatalf("truncate(%q, %d) = %q, want %q", s, n, got, wantCut)
		}
	})
}
