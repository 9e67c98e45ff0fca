package falco

import (
	"strings"

	"github.com/palisade-sec/palisade/internal/audit"
)

// compileOutput turns a Falco output line ("user=%ka.user.name …") into a
// renderer. Fields this translation does not know render as <NA>, as
// Falco prints missing values; they never stop the rule from loading.
func compileOutput(out string) func(*audit.Event) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return nil
	}
	type part struct {
		lit string
		get extractor
	}
	var parts []part
	for i := 0; i < len(out); {
		j := strings.IndexByte(out[i:], '%')
		if j < 0 {
			parts = append(parts, part{lit: out[i:]})
			break
		}
		parts = append(parts, part{lit: out[i : i+j]})
		k := i + j + 1
		depth := 0
		for k < len(out) {
			c := out[k]
			if c == '[' {
				depth++
			} else if c == ']' {
				depth--
			} else if depth == 0 && !(c == '.' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				break
			}
			k++
		}
		name := out[i+j+1 : k]
		get, err := fieldExtractor(name)
		if err != nil || name == "" {
			parts = append(parts, part{lit: "%" + name})
		} else {
			parts = append(parts, part{get: get})
		}
		i = k
	}
	return func(e *audit.Event) string {
		x := &evalCtx{e: e}
		var b strings.Builder
		for _, p := range parts {
			if p.get == nil {
				b.WriteString(p.lit)
				continue
			}
			vals, ok := p.get(x)
			if !ok || len(vals) == 0 {
				b.WriteString("<NA>")
				continue
			}
			b.WriteString(strings.Join(vals, ","))
		}
		return b.String()
	}
}
