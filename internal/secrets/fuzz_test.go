package secrets

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// seeds are inputs every fuzz target starts from: one per detector, plus
// edge cases of the line scanner.
func seeds() []string {
	return []string{
		"", "\n", "\r\n\r\n", "\x00", "\xff\xfe", strings.Repeat("a", maxLine+10),
		"aws_secret_access_key = " + tokAWSSecret, tokAWSID, "AKIAIOSFODNN7EXAMPLE",
		`{"type": "service_account", "private_key_id": "` + gen("kid", 40, hexLow) + `", "private_key": "x"}`,
		"AccountKey=" + tokAzureKey, tokAzureCS, tokGitHub, tokGitHubPAT, tokGitLab + ".01.abc", tokSlack, tokSlackHook, tokStripe,
		fakeKeyPEM("RSA PRIVATE KEY", "f"), "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: x\n",
		jwt(`{"alg":"HS256"}`, `{"sub":"x"}`), "eyJ.eyJ.", `password = "` + tokPassword + `"`, "password='", `token: "${X}"`,
		"apiVersion: v1\nkind: Config\nusers:\n- user:\n    token: abc\n",
	}
}

// FuzzScanReader runs every rule through the line scanner: it must never
// panic, and no finding may carry more of the input than Redact allows.
func FuzzScanReader(f *testing.F) {
	for _, s := range seeds() {
		f.Add("/app/.env", s)
		f.Add("/root/.ssh/id_rsa", s)
	}
	s := Scanner{Rules: Default(), MaxFileSize: 1 << 20}
	f.Fuzz(func(t *testing.T, path, text string) {
		res, err := s.ScanReader(t.Context(), path, strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range res.Findings {
			if fd.Resource.Line < 0 || fd.Resource.Line > strings.Count(text, "\n")+1 {
				t.Errorf("line %d out of range", fd.Resource.Line)
			}
			m := evidence(fd, EvMatch)
			if m == "" {
				continue
			}
			prefix, _, ok := strings.Cut(m, "…")
			if !ok || utf8.RuneCountInString(prefix) > 4 {
				t.Errorf("match evidence %q shows too much", m)
			}
		}
	})
}

// FuzzDetectors runs each content rule alone, regexp and validator, on one
// line and the text after it.
func FuzzDetectors(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s, s)
	}
	rules := ContentRules()
	f.Fuzz(func(t *testing.T, line, after string) {
		for i := range rules {
			r := &rules[i]
			for _, loc := range r.Regexp.FindAllStringSubmatchIndex(line, -1) {
				s, e := secretOf(r.Regexp, loc)
				if s < 0 || e > len(line) || s > e {
					t.Fatalf("%s: secret span %d-%d outside line", r.ID, s, e)
				}
				if r.Validate != nil {
					r.Validate(&Match{Secret: line[s:e], Line: []byte(line), Start: s, After: []byte(after)})
				}
			}
		}
	})
}

// FuzzValidators calls the validators with arbitrary matches, including
// offsets that do not fit the line.
func FuzzValidators(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s, s, 0)
	}
	f.Fuzz(func(t *testing.T, secret, line string, start int) {
		m := func() *Match { return &Match{Secret: secret, Line: []byte(line), Start: start, After: []byte(line)} }
		validGitHubToken(m())
		validGitLabToken(m())
		validJWT(m())
		validPrivateKey(m())
		genericVerdict(m())
		awsVerdict(3)(m())
		entropyVerdict(3)(m())
		IsPlaceholder(secret)
		if h := Entropy(secret); h < 0 || h > 8 {
			t.Errorf("entropy %v out of range", h)
		}
		Redact(secret)
	})
}

// FuzzGlob compiles arbitrary allowlist globs.
func FuzzGlob(f *testing.F) {
	for _, g := range []string{"/a/**", "**/x/*.pem", "?", "[", "/a/**/b", "\\"} {
		f.Add(g, "/a/b/c")
	}
	f.Fuzz(func(t *testing.T, glob, p string) {
		re, err := globRegexp(glob)
		if err == nil {
			re.MatchString(p)
		}
	})
}

// FuzzKeywordIndex checks the one-pass keyword search against a plain
// search of the lowercased text.
func FuzzKeywordIndex(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Add("PassWord=x TOKEN: GHP_ ghp_ 7Q~ eyJ")
	e := newEngine(Default(), DefaultMaxFileSize)
	f.Fuzz(func(t *testing.T, text string) {
		for i := range e.occ {
			e.occ[i] = e.occ[i][:0]
		}
		e.index.find([]byte(text), e.occ)
		low := lowerASCII(nil, []byte(text))
		for ri, rs := range e.content {
			var want []int
			for at := range low {
				for _, kw := range rs.keywords {
					if bytes.HasPrefix(low[at:], kw) {
						want = append(want, at)
					}
				}
			}
			if !slices.Equal(want, e.occ[ri]) {
				t.Fatalf("rule %s: find = %v, want %v", rs.rule.ID, e.occ[ri], want)
			}
		}
	})
}
