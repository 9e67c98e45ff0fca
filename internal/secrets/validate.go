package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"hash/crc32"
	"math"
	"regexp"
	"strings"
)

// Entropy returns the Shannon entropy of s in bits per byte.
func Entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// placeholderWords mark values that are documentation, not secrets.
var placeholderWords = []string{
	"changeme", "change_me", "change-me", "example", "placeholder", "your_", "your-", "yourtoken",
	"xxxx", "****", "....", "dummy", "sample", "redacted", "replace", "insert", "todo", "fixme",
	"notasecret", "not-a-secret", "not_a_secret", "secret_here", "token_here", "password_here",
	"foobar", "abcdef", "123456", "qwerty",
}

// IsPlaceholder reports whether v is obviously not a real secret: a
// template variable ("${TOKEN}", "{{ .Token }}", "<your-token>", "%(pw)s"),
// a well-known filler word, a single repeated character, or a literal
// such as "true" or "null".
func IsPlaceholder(v string) bool {
	if v == "" {
		return true
	}
	if strings.ContainsAny(v[:1], "$%<{[(") || strings.Contains(v, "${") || strings.Contains(v, "{{") ||
		strings.Contains(v, "#{") || (strings.Contains(v, "<") && strings.Contains(v, ">")) {
		return true
	}
	l := strings.ToLower(v)
	switch l {
	case "true", "false", "null", "none", "nil", "undefined", "password", "secret", "token", "required", "optional", "empty":
		return true
	}
	for _, w := range placeholderWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return strings.Count(v, v[:1]) == len(v)
}

// base62 is the digit order GitHub uses for token checksums.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// githubChecksum returns the six base62 digits GitHub appends to the 30
// random characters of a classic-format token: the CRC-32 (IEEE) of those
// characters, most significant digit first, zero padded. See "Behind
// GitHub's new authentication token formats" (github.blog, 2021-04-05).
func githubChecksum(random string) string {
	v := crc32.ChecksumIEEE([]byte(random))
	var b [6]byte
	for i := 5; i >= 0; i-- {
		b[i] = base62[v%62]
		v /= 62
	}
	return string(b[:])
}

// validGitHubToken checks the checksum of ghp_/gho_/ghu_/ghs_/ghr_ and npm_
// tokens (prefix, "_", 30 random characters, 6 checksum characters). Fine-grained
// github_pat_ tokens have no documented checksum and pass on format alone.
func validGitHubToken(m *Match) Verdict {
	t := m.Secret
	if strings.HasPrefix(t, "github_pat_") {
		if IsPlaceholder(t[len("github_pat_"):]) || Entropy(t) < 3.5 {
			return Reject
		}
		return Accept
	}
	if len(t) != 40 || t[3] != '_' {
		return Reject
	}
	if githubChecksum(t[4:34]) != t[34:] {
		return Reject
	}
	return Accept
}

// awsExampleKeys are the access key IDs and secret keys AWS documentation
// uses in its examples.
var awsExampleKeys = []string{
	"AKIAIOSFODNN7EXAMPLE",
	"AKIAI44QH8DHBEXAMPLE",
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
}

// awsVerdict rejects low-entropy fillers and marks the documented
// examples (anything ending in EXAMPLE or EXAMPLEKEY) as such.
func awsVerdict(minEntropy float64) func(m *Match) Verdict {
	return func(m *Match) Verdict {
		s := m.Secret
		for _, e := range awsExampleKeys {
			if s == e {
				return Example
			}
		}
		if strings.HasSuffix(s, "EXAMPLE") || strings.HasSuffix(s, "EXAMPLEKEY") {
			return Example
		}
		body := s
		if len(s) == 20 {
			body = s[4:]
		}
		if Entropy(body) < minEntropy || IsPlaceholder(body) {
			return Reject
		}
		return Accept
	}
}

// entropyVerdict accepts values of at least min bits per byte that are not
// placeholders.
func entropyVerdict(min float64) func(m *Match) Verdict {
	return func(m *Match) Verdict {
		if IsPlaceholder(m.Secret) || Entropy(m.Secret) < min {
			return Reject
		}
		return Accept
	}
}

// genericVerdict judges a value assigned to a secret-like name. Beyond
// placeholders and low entropy it rejects code (an unquoted value with
// brackets or sigils) and references rather than values:
// environment variable names (DB_PASSWORD), dotted identifiers
// (config.password), paths and URLs without credentials.
func genericVerdict(m *Match) Verdict {
	v := m.Secret
	if len(v) < 8 || len(v) > 200 || IsPlaceholder(v) || Entropy(v) < 3.0 {
		return Reject
	}
	quoted := m.Start > 0 && m.Start <= len(m.Line) && (m.Line[m.Start-1] == '"' || m.Line[m.Start-1] == '\'')
	if !quoted {
		// Unquoted text is often code or prose: getenv("PW") calls,
		// constants (SIOCGLIFTOKEN = -0x3f879678), "token: creating
		// file". Ask for a value that mixes character classes.
		if strings.ContainsAny(v, "(){}[]<>$%`") || strings.Contains(v, "::") || v[0] == ':' || v[0] == '=' ||
			numeric.MatchString(v) || alnumClasses(v) < 2 {
			return Reject
		}
	}
	if identWords.MatchString(v) || exampleHost.Match(m.Line) {
		return Reject // a type or constant name; a documentation example
	}
	// A value naming what it is ("challengePassword", "my-api-token")
	// is a label, not a secret.
	l := strings.ToLower(v)
	for _, w := range []string{"password", "passwd", "secret", "token", "credential", "apikey", "api_key"} {
		if strings.Contains(l, w) {
			return Reject
		}
	}
	upper := true
	for _, c := range v {
		if !(c >= 'A' && c <= 'Z' || c == '_' || c >= '0' && c <= '9') {
			upper = false
			break
		}
	}
	if upper && strings.Contains(v, "_") {
		return Reject
	}
	if strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "file:") {
		return Reject
	}
	if strings.Contains(v, ".") && isIdentPath(v) {
		return Reject
	}
	return Accept
}

// numeric matches decimal and hexadecimal number literals.
var numeric = regexp.MustCompile(`^[-+]?(?:0[xX][0-9a-fA-F_]+|[0-9][0-9_.]*)[uUlL]*$`)

// identWords matches camelCase and PascalCase identifiers without digits
// (accessToken, _DSAPrivateKey, Whitespace): code, not a value. Each hump
// needs two lowercase letters, so random letters (XkQmLvPr) do not match.
var identWords = regexp.MustCompile(`^_*(?:[a-z]{2,}(?:[A-Z]+[a-z]{2,})+|[A-Z]+[a-z]{2,}(?:[A-Z]+[a-z]{2,})*)$`)

// exampleHost matches the domains RFC 2606 reserves for documentation.
var exampleHost = regexp.MustCompile(`\bexample\.(?:com|org|net)\b`)

// alnumClasses counts the letter and digit classes (lower, upper, digit)
// in v: a random value mixes them, an identifier (password_ptr,
// always-impersonate, MAX_TOKENS) has one case and no digits.
func alnumClasses(v string) int {
	var lower, upper, digit int
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z':
			lower = 1
		case c >= 'A' && c <= 'Z':
			upper = 1
		case c >= '0' && c <= '9':
			digit = 1
		}
	}
	return lower + upper + digit
}

// isIdentPath reports whether v looks like a.b.c made of identifiers.
func isIdentPath(v string) bool {
	for _, part := range strings.Split(v, ".") {
		if part == "" {
			return false
		}
		for i, c := range part {
			ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9'
			if !ok {
				return false
			}
		}
	}
	return true
}

// decodeSegment decodes one base64url JWT segment into a JSON object.
func decodeSegment(s string) (map[string]any, bool) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, false
	}
	var obj map[string]any
	if json.Unmarshal(b, &obj) != nil {
		return nil, false
	}
	return obj, true
}

// validJWT accepts three-part tokens whose header is a JSON object with a
// string "alg" other than "none" and whose payload is a JSON object. The
// tokens of jwt.io's front page (sub 1234567890, John Doe) and of PyJWT's
// documentation ({"some": "payload"}) are Examples.
func validJWT(m *Match) Verdict {
	parts := strings.Split(m.Secret, ".")
	if len(parts) != 3 || parts[2] == "" {
		return Reject
	}
	h, ok := decodeSegment(parts[0])
	if !ok {
		return Reject
	}
	alg, _ := h["alg"].(string)
	if alg == "" || strings.EqualFold(alg, "none") {
		return Reject
	}
	p, ok := decodeSegment(parts[1])
	if !ok {
		return Reject
	}
	// jwt.io's front page and PyJWT's documentation.
	if p["sub"] == "1234567890" && p["name"] == "John Doe" || len(p) == 1 && p["some"] == "payload" {
		return Example
	}
	return Accept
}

// validPrivateKey accepts a PEM private-key header only when key material
// follows it: base64 on the next line (or after an escaped "\n" in JSON
// and YAML strings), or the Proc-Type header of an encrypted PEM key. A
// bare header in source code ("-----BEGIN RSA PRIVATE KEY-----" as a
// constant in a TLS library) is rejected. The secret becomes the header
// plus the first 64 characters of the body, so that different keys get
// different fingerprints.
func validPrivateKey(m *Match) Verdict {
	rest := m.After
	for {
		switch {
		case bytes.HasPrefix(rest, []byte(`\r`)), bytes.HasPrefix(rest, []byte(`\n`)):
			rest = rest[2:]
			continue
		case len(rest) > 0 && (rest[0] == '\r' || rest[0] == '\n' || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '"' || rest[0] == '\''):
			rest = rest[1:]
			continue
		}
		break
	}
	if bytes.HasPrefix(rest, []byte("Proc-Type:")) {
		return Accept
	}
	// OpenPGP armor headers ("Version: …", "Comment: …") precede a
	// blank line and the base64 body.
	for armorHeader.Match(rest) {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return Reject
		}
		rest = bytes.TrimLeft(rest[i+1:], "\r\n")
	}
	n := 0
	for n < len(rest) && n < 64 && isBase64(rest[n]) {
		n++
	}
	if n < 40 {
		return Reject
	}
	m.Secret += string(rest[:n])
	return Accept
}

// armorHeader matches an OpenPGP armor header line.
var armorHeader = regexp.MustCompile(`^[A-Z][A-Za-z-]*: `)

func isBase64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}

// validGitLabToken trims a trailing sentence dot, then asks for 20
// characters after the prefix that are not a placeholder.
func validGitLabToken(m *Match) Verdict {
	m.Secret = strings.TrimRight(m.Secret, ".")
	_, body, _ := strings.Cut(m.Secret, "-")
	if len(body) < 20 || IsPlaceholder(body) || Entropy(body) < 3.0 {
		return Reject
	}
	return Accept
}

// assignmentAhead reports whether text starts with a name followed by an
// assignment (":" or "="), allowing a closing quote and blanks between.
// It is a superset of what the generic rule's regexp accepts there.
func assignmentAhead(text []byte) bool {
	i := 0
	for i < len(text) {
		c := text[i]
		if c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			i++
			continue
		}
		break
	}
	if i < len(text) && (text[i] == '"' || text[i] == '\'') {
		i++
	}
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	return i < len(text) && (text[i] == ':' || text[i] == '=')
}
