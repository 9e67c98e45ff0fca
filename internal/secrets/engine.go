package secrets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"
)

// Limits of the line scanner.
const (
	// DefaultMaxFileSize is the largest file scanned when
	// Scanner.MaxFileSize is 0; larger files are skipped and counted.
	DefaultMaxFileSize = 10 << 20
	// sniffSize is how much of a file decides whether it is binary.
	sniffSize = 8 << 10
	// maxLine bounds the text one regular expression sees at a time:
	// longer lines (minified JavaScript, base64 blobs) are scanned in
	// windows of this size that overlap by lineOverlap bytes.
	maxLine     = 64 << 10
	lineOverlap = 1 << 10
	// afterSize is how much following text a validator sees.
	afterSize = 4 << 10
	// maxPrecheck is how much text an anchored rule's Precheck sees.
	maxPrecheck = 256
)

// skip says why a file was not scanned.
type skip int

const (
	scanned skip = iota
	skippedBinary
	skippedLarge
)

// hit is one confirmed match in one file. secret never leaves the package
// except through Fingerprint and Redact.
type hit struct {
	rule    *Rule
	secret  string
	line    int // 1-based; 0 for file rules
	start   int // span of the secret in the file, for overlap checks
	end     int
	example bool
}

// engine scans files one at a time with buffers reused between files. It
// is not safe for concurrent use; each scan builds its own.
type engine struct {
	content []*ruleState
	files   []*Rule
	max     int64
	buf     []byte
	lower   []byte
	index   *keywordIndex
	occ     [][]int // keyword offsets per content rule, reused per file
}

// ruleState is a content rule with its keywords as byte slices.
type ruleState struct {
	rule     *Rule
	keywords [][]byte
	requires [][]byte
}

func newEngine(rules []Rule, max int64) *engine {
	e := &engine{max: max}
	for i := range rules {
		r := &rules[i]
		if r.Path != nil {
			e.files = append(e.files, r)
			continue
		}
		rs := &ruleState{rule: r}
		for _, k := range r.Keywords {
			rs.keywords = append(rs.keywords, []byte(k))
		}
		for _, k := range r.Requires {
			rs.requires = append(rs.requires, []byte(k))
		}
		e.content = append(e.content, rs)
	}
	e.index = newKeywordIndex(e.content)
	e.occ = make([][]int, len(e.content))
	return e
}

// scanFile reads and judges one file at p (absolute path). size is the
// size the archive declares, or -1 when unknown. Only a read error is
// returned.
func (e *engine) scanFile(p string, size int64, r io.Reader) ([]hit, skip, error) {
	data, large, err := load(r, size, e.max, e.buf)
	if err != nil {
		return nil, scanned, err
	}
	e.buf = data
	hits, why := e.judge(p, data, large)
	return hits, why, nil
}

// load reads a whole file into buf, or a new buffer when buf is too
// small. It reads nothing and reports large when the declared size is
// over max, and reads at most max+1 bytes of a file of unknown size
// (-1), reporting large when there are more than max.
func load(r io.Reader, size, max int64, buf []byte) (data []byte, large bool, err error) {
	if size > max {
		return buf[:0], true, nil
	}
	if size >= 0 {
		if int64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return buf[:0], false, fmt.Errorf("read file: %w", err)
		}
		return buf, false, nil
	}
	b := bytes.NewBuffer(buf[:0])
	if _, err := b.ReadFrom(io.LimitReader(r, max+1)); err != nil && !errors.Is(err, io.EOF) {
		return b.Bytes()[:0], false, fmt.Errorf("read file: %w", err)
	}
	data = b.Bytes()
	return data, int64(len(data)) > max, nil
}

// judge runs the rules over one file's content. large says the content
// was not read (too large); the file is then judged by path only.
func (e *engine) judge(p string, data []byte, large bool) ([]hit, skip) {
	var named []*Rule // file rules whose path matches
	for _, fr := range e.files {
		if fr.Path(p) {
			named = append(named, fr)
		}
	}
	if large {
		return pathOnly(named, "path:"+p), skippedLarge
	}
	digest := ""
	if len(named) > 0 {
		sum := sha256.Sum256(data)
		digest = "sha256:" + hex.EncodeToString(sum[:])
	}
	if isBinary(data) {
		return pathOnly(named, digest), skippedBinary
	}
	var hits []hit
	for _, fr := range named {
		if fr.Content == nil || fr.Content(data) {
			hits = append(hits, hit{rule: fr, secret: digest})
		}
	}
	hits = append(hits, e.scanText(data)...)
	return supersede(hits), scanned
}

// pathOnly returns hits for the file rules that need no content.
func pathOnly(rules []*Rule, identity string) []hit {
	var hits []hit
	for _, fr := range rules {
		if fr.Content == nil {
			hits = append(hits, hit{rule: fr, secret: identity})
		}
	}
	return hits
}

// isBinary reports whether the first 8 KiB of data hold a NUL byte or are
// not UTF-8 (a rune cut at the 8 KiB boundary is allowed).
func isBinary(data []byte) bool {
	head := data[:min(len(data), sniffSize)]
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	if utf8.Valid(head) {
		return false
	}
	if len(head) < sniffSize {
		return true
	}
	// Allow an incomplete rune at the cut.
	for cut := 1; cut < utf8.UTFMax && cut < len(head); cut++ {
		if utf8.Valid(head[:len(head)-cut]) {
			return false
		}
	}
	return true
}

// scanText runs the content rules over text. Rather than offering every
// line to every rule, it finds all rules' keywords in one pass
// (keywordIndex) and runs a rule's regular expression only on the lines
// (or, for lines longer than maxLine, the windows) around its keyword
// occurrences: most files hold no keyword at all, and a file that does
// costs one regexp run per matching line, not per line.
func (e *engine) scanText(data []byte) []hit {
	if len(e.content) == 0 {
		return nil
	}
	for i := range e.occ {
		e.occ[i] = e.occ[i][:0]
	}
	e.index.find(data, e.occ)
	lowered := false
	var hits []hit
	for i, rs := range e.content {
		if len(e.occ[i]) == 0 {
			continue
		}
		if len(rs.requires) > 0 {
			if !lowered {
				e.lower = lowerASCII(e.lower[:0], data)
				lowered = true
			}
			if !containsAll(e.lower, rs.requires) {
				continue
			}
		}
		hits = e.runRule(rs.rule, e.occ[i], data, hits)
	}
	if len(hits) == 0 {
		return nil
	}
	// Number the lines: hits carry the offset of their line's start.
	slices.SortStableFunc(hits, func(a, b hit) int { return a.line - b.line })
	lineNo, pos := 1, 0
	for i := range hits {
		lineNo += bytes.Count(data[pos:hits[i].line], []byte{'\n'})
		pos = hits[i].line
		hits[i].line = lineNo
	}
	return dropGenericOverlaps(hits)
}

// runRule appends the hits of rule r, whose keywords occur at the sorted
// offsets occ. While collecting, hit.line holds the byte offset of the
// line start; scanText turns it into a number.
func (e *engine) runRule(r *Rule, occ []int, data []byte, hits []hit) []hit {
	done := -1 // text before this offset was already searched (unanchored rules)
	for _, at := range occ {
		if r.Anchored && r.Precheck != nil && !r.Precheck(data[at:min(len(data), at+maxPrecheck)]) {
			continue // most keyword occurrences end here, before any line search
		}
		// The line around at, looking at most maxLine bytes either way so
		// that a huge line with many keywords stays linear.
		lo := max(0, at-maxLine)
		ls := lo + bytes.LastIndexByte(data[lo:at], '\n') + 1
		hi := min(len(data), at+maxLine)
		le := hi
		if i := bytes.IndexByte(data[at:hi], '\n'); i >= 0 {
			le = at + i
		}
		var ws, we int
		switch {
		case r.Anchored:
			ws, we = at, min(le, at+maxLine)
		case at < done:
			continue
		case le-ls <= maxLine:
			ws, we = ls, le
		default:
			ws = max(ls, at-lineOverlap)
			we = min(le, ws+maxLine)
		}
		if !r.Anchored {
			done = we - lineOverlap
			if we == le {
				done = le
			}
		}
		hits = e.match(r, data, ls, ws, we, hits)
	}
	return hits
}

// match runs r over data[ws:we], part of the line starting at ls.
func (e *engine) match(r *Rule, data []byte, ls, ws, we int, hits []hit) []hit {
	win := data[ws:we]
	if !r.Anchored && r.Precheck != nil && !r.Precheck(win) {
		return hits
	}
	var locs [][]int
	if r.Anchored {
		if loc := r.Regexp.FindSubmatchIndex(win); loc != nil {
			locs = [][]int{loc}
		}
	} else {
		locs = r.Regexp.FindAllSubmatchIndex(win, -1)
	}
	for _, loc := range locs {
		s, t := secretOf(r.Regexp, loc)
		m := &Match{Secret: string(win[s:t]), Line: data[ls:max(we, ls)], Start: ws - ls + s, After: data[ws+loc[1] : min(len(data), ws+loc[1]+afterSize)]}
		v := Accept
		if r.Validate != nil {
			v = r.Validate(m)
		}
		if v == Reject || m.Secret == "" {
			continue
		}
		hits = append(hits, hit{rule: r, secret: m.Secret, line: ls, start: ws + s, end: ws + t, example: v == Example})
	}
	return hits
}

// dropGenericOverlaps removes generic hits whose span (file offsets)
// overlaps a specific rule's hit.
func dropGenericOverlaps(hits []hit) []hit {
	if len(hits) < 2 {
		return hits
	}
	return slices.DeleteFunc(hits, func(h hit) bool {
		if !h.rule.Generic {
			return false
		}
		for _, o := range hits {
			if !o.rule.Generic && o.start < h.end && h.start < o.end {
				return true
			}
		}
		return false
	})
}

// supersede drops hits of rules that another hit in the same file
// supersedes.
func supersede(hits []hit) []hit {
	var gone map[string]bool
	for _, h := range hits {
		for _, id := range h.rule.Supersedes {
			if gone == nil {
				gone = make(map[string]bool)
			}
			gone[id] = true
		}
	}
	if gone == nil {
		return hits
	}
	return slices.DeleteFunc(hits, func(h hit) bool { return gone[h.rule.ID] })
}

// lowerASCII appends the ASCII-lowercased data to dst.
func lowerASCII(dst, data []byte) []byte {
	dst = slices.Grow(dst, len(data))[:len(data)]
	for i, c := range data {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return dst
}

func containsAll(b []byte, words [][]byte) bool {
	for _, w := range words {
		if !bytes.Contains(b, w) {
			return false
		}
	}
	return true
}
