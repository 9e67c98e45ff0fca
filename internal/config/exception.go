package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	klabels "k8s.io/apimachinery/pkg/labels"

	"github.com/palisade-sec/palisade/internal/finding"
)

// Exception accepts the risk of the findings it matches, on someone's
// authority, for a limited time. Image scanning, admission, posture and
// audit detection all apply the same exceptions (see ApplyExceptions).
type Exception struct {
	// ID names the exception in reports. Optional in the file: it defaults
	// to Match.StableID(), so that it survives edits to owner, reason and
	// expiry.
	ID string
	// Match selects the findings the exception covers.
	Match Match
	// Owner is who accepted the risk (a person or team); required.
	Owner string
	// Reason is why the risk is acceptable; required.
	Reason string
	// Expires is when the exception stops applying; required. A date
	// (YYYY-MM-DD) in the file means the end of that day, UTC.
	Expires time.Time
}

// Match selects findings. A finding matches when every field that is set
// matches; a field left empty matches anything. At least one field must be
// set: an exception that matches everything is not an exception.
type Match struct {
	// Rules are rule IDs or path.Match globs ("CVE-2024-3094",
	// "posture/host*"), compared case-insensitively with the finding's rule
	// ID (for a vulnerability, the advisory ID). Any one may match.
	Rules []string
	// Namespace is a glob over the resource namespace.
	Namespace string
	// Kind is the resource kind, such as "Deployment", compared
	// case-insensitively.
	Kind string
	// Name is a glob over the resource name.
	Name string
	// Image is a glob over the image reference or digest. A pattern
	// matches the reference as recorded, its repository without tag or
	// digest, or the digest alone ("sha256:…").
	Image string
	// Labels is a Kubernetes label selector, such as
	// "app=web,tier!=db,env in (prod,stage)", over the resource's labels.
	Labels string

	// sel is Labels parsed, valid while selSrc == Labels (so that editing
	// Labels after Parse cannot leave a stale selector behind).
	sel    klabels.Selector
	selSrc string
}

// Empty reports whether m sets no field.
func (m *Match) Empty() bool {
	return len(m.Rules) == 0 && m.Namespace == "" && m.Kind == "" && m.Name == "" && m.Image == "" && m.Labels == ""
}

// StableID returns the ID an exception with match m gets when the file
// gives none: a hash of the match, the same on every run and machine.
func (m *Match) StableID() string {
	rules := make([]string, len(m.Rules))
	for i, r := range m.Rules {
		rules[i] = strings.ToLower(r)
	}
	sort.Strings(rules)
	labels := m.Labels
	if sel := m.selector(); m.Labels != "" && !isNothing(sel) {
		labels = sel.String() // canonical: sorted, no spaces
	}
	h := sha256.New()
	write := func(s string) {
		// Length-prefix each part so that ("ab","c") and ("a","bc") differ.
		h.Write([]byte(strconv.Itoa(len(s)) + ":" + s))
	}
	write(strconv.Itoa(len(rules)))
	for _, r := range rules {
		write(r)
	}
	for _, s := range []string{m.Namespace, strings.ToLower(m.Kind), m.Name, m.Image, labels} {
		write(s)
	}
	return "EXC-" + strings.ToUpper(hex.EncodeToString(h.Sum(nil))[:16])
}

// selector returns the parsed label selector; one that does not parse
// selects nothing, so that an exception nobody can read suppresses nothing.
func (m *Match) selector() klabels.Selector {
	if m.sel != nil && m.selSrc == m.Labels {
		return m.sel
	}
	sel, err := parseSelector(m.Labels)
	if err != nil {
		return klabels.Nothing()
	}
	return sel
}

// maxSelectorLen bounds a label selector. Real ones are short (a label key
// is at most 317 bytes, a value 63), and parsing cost grows with length.
const maxSelectorLen = 4096

// parseSelector parses a Kubernetes label selector of bounded length.
func parseSelector(s string) (klabels.Selector, error) {
	if len(s) > maxSelectorLen {
		return nil, fmt.Errorf("longer than %d bytes", maxSelectorLen)
	}
	return klabels.Parse(s)
}

// compile parses the label selector once, for repeated matching.
func (m *Match) compile() { m.sel, m.selSrc = m.selector(), m.Labels }

// isNothing reports whether sel is the selector that matches nothing,
// which selector returns for text that does not parse.
func isNothing(sel klabels.Selector) bool {
	_, selectable := sel.Requirements()
	return !selectable
}

// Matches reports whether e covers finding f, whose resource carries
// labels. A nil labels map means the labels are unknown: an exception that
// selects on labels then does not match. Expiry is not considered; see
// Expired.
func (e *Exception) Matches(f *finding.Finding, labels map[string]string) bool {
	m := &e.Match
	if m.Empty() {
		return false
	}
	r := &f.Resource
	if len(m.Rules) > 0 && !matchRule(m.Rules, f.RuleID) {
		return false
	}
	if m.Namespace != "" && !glob(m.Namespace, r.Namespace) {
		return false
	}
	if m.Kind != "" && !strings.EqualFold(m.Kind, r.Kind) {
		return false
	}
	if m.Name != "" && !glob(m.Name, r.Name) {
		return false
	}
	if m.Image != "" && !matchImage(m.Image, r) {
		return false
	}
	if m.Labels != "" && (labels == nil || !m.selector().Matches(klabels.Set(labels))) {
		return false
	}
	return true
}

// Expired reports whether e no longer applies at now. An exception with no
// expiry is expired: accepted risk is always reviewed again.
func (e *Exception) Expired(now time.Time) bool { return now.After(e.Expires) }

// Ref returns the record a finding keeps of the exception that applied.
func (e *Exception) Ref() finding.ExceptionRef {
	id := e.ID
	if id == "" {
		id = e.Match.StableID()
	}
	return finding.ExceptionRef{ID: id, Owner: e.Owner, Reason: e.Reason, Expires: e.Expires}
}

// ParseDate parses an exception expiry: a date (YYYY-MM-DD), meaning the
// last instant of that day in UTC, or an RFC 3339 time.
func ParseDate(s string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Add(24*time.Hour - time.Nanosecond), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %s as a date (want YYYY-MM-DD or RFC 3339)", quote(s))
}

func glob(pattern, s string) bool {
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

func matchRule(patterns []string, rule string) bool {
	rule = strings.ToLower(rule)
	for _, p := range patterns {
		if glob(strings.ToLower(p), rule) {
			return true
		}
	}
	return false
}

// matchImage matches pattern against the forms of the image reference a
// user may write: as recorded, repository only, repository@digest, digest.
func matchImage(pattern string, r *finding.Resource) bool {
	var cands []string
	if r.Image != "" {
		repo := r.Image
		digest := r.ImageDigest
		if i := strings.LastIndexByte(repo, '@'); i >= 0 {
			if digest == "" {
				digest = repo[i+1:]
			}
			repo = repo[:i]
		}
		if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') {
			repo = repo[:i] // a tag, not a registry port
		}
		cands = append(cands, r.Image, repo)
		if digest != "" {
			cands = append(cands, repo+"@"+digest)
		}
		if digest != "" && digest != r.ImageDigest {
			cands = append(cands, digest)
		}
	}
	if r.ImageDigest != "" {
		cands = append(cands, r.ImageDigest)
	}
	for _, c := range cands {
		if glob(pattern, c) {
			return true
		}
	}
	return false
}
