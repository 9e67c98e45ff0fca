package checks

import (
	"slices"
	"strings"
	"testing"
)

func TestNginxOffending(t *testing.T) {
	tests := []struct {
		name  string
		value string
		url   bool
		want  []string
	}{
		{"plain url", "https://auth.example.org/oauth2/auth?x=1&y=%7C", true, nil},
		{"nginx variable", "https://$host/oauth2/auth", true, nil},
		{"directive end", "http://a/;", true, []string{"';'"}},
		{"block and newline, once each", "http://a/#;\n}}}\n", true, []string{"';'", "'\\n'", "'}'"}},
		{"pipe in url", "http://a/b|c", true, []string{"'|'"}},
		{"pipe in cn regex", "CN=(a|b)", false, nil},
		{"space in cn", "CN=Jane Doe", false, nil},
		{"quote in cn", `CN=a" ) {`, false, []string{`'"'`, "'{'"}},
		{"tab", "http://a/\tb", true, []string{"'\\t'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nginxOffending(tt.value, tt.url); !slices.Equal(got, tt.want) {
				t.Errorf("nginxOffending(%q, %v) = %v, want %v", tt.value, tt.url, got, tt.want)
			}
		})
	}
}

// FuzzNginxOffending checks that any value is judged without a panic and
// that a value is clean exactly when it holds none of the characters that
// can break out of an nginx directive.
func FuzzNginxOffending(f *testing.F) {
	for _, s := range []string{"https://$host/auth", "http://a/#;\n}", "CN=(a|b)", "\x00\xff"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, v string, url bool) {
		got := nginxOffending(v, url)
		breaks := strings.ContainsAny(v, ";{}\"'\\`\n\r")
		if breaks && len(got) == 0 {
			t.Errorf("nginxOffending(%q) = nothing, want the directive-breaking characters", v)
		}
		if len(got) > len(v) {
			t.Errorf("nginxOffending(%q) = %d characters, more than the value has", v, len(got))
		}
	})
}
