package secrets

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
)

// Rule is one detector. A content rule sets Regexp (and Keywords); a file
// rule sets Path. Rules are plain values: build the list once (Default) and
// share it; a scan never modifies them.
type Rule struct {
	// ID is stable and unique, e.g. "secret/github-token"; it appears in
	// findings, allowlists and fingerprints. Never reuse or rename one.
	ID string
	// Title is a short human name: "GitHub token".
	Title string
	// Severity of a confirmed match.
	Severity finding.Severity
	// Remediation says what to do about a match.
	Remediation string

	// Keywords are lowercase substrings of at least three bytes. Regexp
	// runs only on lines that contain one of them (compared
	// case-insensitively), or, for an Anchored rule, only where one
	// occurs. They make scanning fast: most files hold no keyword.
	Keywords []string
	// Regexp finds candidates in one line. The secret is the first
	// subexpression that took part in the match, else the whole match.
	Regexp *regexp.Regexp
	// Anchored makes Regexp run only where a keyword occurs in the line,
	// anchored there (the pattern starts with "^" and one of the
	// keywords), instead of searching the whole line. Use it for rules
	// whose keywords are common words: an anchored attempt fails within
	// a few bytes where an unanchored search costs the whole line.
	Anchored bool
	// Precheck, if set, is a cheap test of the text at a keyword
	// occurrence (an anchored rule) or of the line (otherwise) that must
	// pass before the regexp runs.
	Precheck func(text []byte) bool
	// Validate, if set, judges a candidate: checksum, entropy, decoding.
	Validate func(m *Match) Verdict
	// Requires lists lowercase substrings the whole file must contain
	// (case-insensitively) for the rule to run, e.g. "service_account".
	Requires []string
	// Generic marks a rule whose match is dropped when a specific
	// (non-generic) rule matched an overlapping span of the same line.
	Generic bool

	// Path, when set, makes this a file rule: it reports whether a file at
	// p (absolute, slash-separated: "/root/.npmrc") is sensitive by name.
	Path func(p string) bool
	// Content, if set, must also hold for a file rule to report: it sees
	// the whole text of the file. Files that are too large or binary are
	// reported on Path alone only when Content is nil.
	Content func(data []byte) bool

	// Supersedes lists rule IDs whose matches in the same file are
	// dropped when this rule matches there: a kubeconfig finding need not
	// repeat as a generic-assignment one.
	Supersedes []string
}

// Verdict is a validator's judgement of a candidate.
type Verdict int

// The verdicts a validator can give.
const (
	// Accept reports the candidate with the rule's severity.
	Accept Verdict = iota
	// Reject drops the candidate: a placeholder, a bad checksum.
	Reject
	// Example reports the candidate at low severity: a value that vendor
	// documentation publishes as an example (AKIAIOSFODNN7EXAMPLE). It is
	// reported, not hidden, because a copied example in a config file is
	// still worth a look; allowlist its fingerprint to silence it.
	Example
)

// Match is a candidate a content rule found, as its validator sees it.
type Match struct {
	// Secret is the matched secret. A validator may replace it with a
	// better identity of the secret (the body of a private key rather
	// than its header), which the fingerprint is then computed from.
	Secret string
	// Line is the whole line (or line window) the candidate is in.
	Line []byte
	// Start is the offset of the secret in Line.
	Start int
	// After is up to 4 KiB of the file following the whole match.
	After []byte
}

// String returns the match with its secret redacted, so that printing a
// Match never prints the secret.
func (m *Match) String() string { return "secrets.Match{" + Redact(m.Secret) + "}" }

// LogValue keeps the secret out of structured logs.
func (m *Match) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// idPattern is the form of rule IDs (STYLE.md: stable, lowercase,
// slash-separated).
var idPattern = regexp.MustCompile(`^[a-z]+(/[a-z0-9-]+)+$`)

// checkRules reports the first problem of a rule list: a bad or duplicate
// ID, a rule that is neither a content nor a file rule, uppercase keywords.
func checkRules(rules []Rule) error {
	seen := make(map[string]bool, len(rules))
	var errs []error
	for i := range rules {
		r := &rules[i]
		if !idPattern.MatchString(r.ID) {
			errs = append(errs, fmt.Errorf("rule %d: bad ID %q", i, r.ID))
			continue
		}
		if seen[r.ID] {
			errs = append(errs, fmt.Errorf("rule %s: duplicate ID", r.ID))
		}
		seen[r.ID] = true
		if (r.Regexp == nil) == (r.Path == nil) {
			errs = append(errs, fmt.Errorf("rule %s: set exactly one of Regexp and Path", r.ID))
		}
		if r.Anchored && (r.Regexp == nil || !strings.HasPrefix(r.Regexp.String(), "^")) {
			errs = append(errs, fmt.Errorf("rule %s: an anchored rule's pattern must start with ^", r.ID))
		}
		if r.Regexp != nil && len(r.Keywords) == 0 {
			errs = append(errs, fmt.Errorf("rule %s: content rule without keywords", r.ID))
		}
		for _, k := range append(append([]string(nil), r.Keywords...), r.Requires...) {
			if len(k) < 3 || k != strings.ToLower(k) {
				errs = append(errs, fmt.Errorf("rule %s: keyword %q must be lowercase and at least 3 bytes", r.ID, k))
			}
		}
	}
	return errors.Join(errs...)
}

// secretOf returns the secret's span in a FindSubmatchIndex result.
func secretOf(re *regexp.Regexp, loc []int) (int, int) {
	for g := 1; g <= re.NumSubexp(); g++ {
		if loc[2*g] >= 0 {
			return loc[2*g], loc[2*g+1]
		}
	}
	return loc[0], loc[1]
}
