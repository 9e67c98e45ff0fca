package secrets

import (
	"fmt"
	"regexp"
	"strings"
)

// Allowlist silences findings the caller has judged harmless. A finding is
// dropped (and counted in Result.Allowlisted) when its file matches any of
// Paths, or its rule is in Rules, or its fingerprint is in Fingerprints.
// The CLI fills it from palisade.yaml; exceptions with an owner and an
// expiry (config.Exception) are applied later, to findings, and are the
// better tool for accepted risks.
type Allowlist struct {
	// Paths are globs on the absolute file path ("/usr/share/doc/**",
	// "/app/test/*.pem"): "*" matches within one path segment, "**"
	// matches across segments, "?" matches one character.
	Paths []string
	// Rules are rule IDs, e.g. "secret/jwt".
	Rules []string
	// Fingerprints are finding fingerprints as Fingerprint returns them
	// (the "fingerprint" evidence of a finding).
	Fingerprints []string
}

// allow is a compiled Allowlist.
type allow struct {
	paths []*regexp.Regexp
	rules map[string]bool
	fps   map[string]bool
}

// compile checks the globs and builds the lookup tables.
func (a *Allowlist) compile() (*allow, error) {
	out := &allow{rules: make(map[string]bool), fps: make(map[string]bool)}
	for _, g := range a.Paths {
		re, err := globRegexp(g)
		if err != nil {
			return nil, fmt.Errorf("compile allowlist path %q: %w", g, err)
		}
		out.paths = append(out.paths, re)
	}
	for _, r := range a.Rules {
		out.rules[r] = true
	}
	for _, f := range a.Fingerprints {
		out.fps[strings.ToLower(f)] = true
	}
	return out, nil
}

// pathAllowed reports whether p is allowlisted by path.
func (a *allow) pathAllowed(p string) bool {
	for _, re := range a.paths {
		if re.MatchString(p) {
			return true
		}
	}
	return false
}

// allowed reports whether a finding of rule with fingerprint fp in file p
// is allowlisted.
func (a *allow) allowed(rule, p, fp string) bool {
	return a.rules[rule] || a.fps[fp] || a.pathAllowed(p)
}

// globRegexp turns a path glob into an anchored regular expression.
func globRegexp(g string) (*regexp.Regexp, error) {
	if g == "" {
		return nil, fmt.Errorf("empty glob")
	}
	var b strings.Builder
	b.WriteString(`^`)
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				i++
				if i+1 < len(g) && g[i+1] == '/' {
					i++
					b.WriteString(`(?:.*/)?`) // "a/**/b" also matches "a/b"
				} else {
					b.WriteString(`.*`)
				}
			} else {
				b.WriteString(`[^/]*`)
			}
		case '?':
			b.WriteString(`[^/]`)
		case '[', ']':
			return nil, fmt.Errorf("character classes are not supported")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	return regexp.Compile(b.String())
}
