package kube

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// Manifests that tools write (kubectl get -o yaml, helm template,
// kustomize build, generators) use a small part of YAML: block mappings
// and sequences indented with spaces, one-line plain and quoted scalars,
// one-line flow collections, comments. yaml.v3 parses them through a
// general scanner, parser and event machine, which is most of what reading
// a large file costs. fastParse reads that part directly and declines
// everything else — anchors, aliases, tags, block and multi-line scalars,
// merge keys, complex keys, tabs, non-ASCII text, multi-line flow
// collections, empty documents — which the caller then parses with
// yaml.v3. It reports what it reads to a fastSink: nodeSink builds the
// node tree yaml.v3 would (kind, tag, value, line and children: what
// toJSON and indexLines read), jsonSink (fastjson.go) writes the JSON and
// line index of an object straight away, without the tree. FuzzFastParse
// checks that whatever it accepts, yaml.v3 reads the same, and that
// jsonSink writes what toJSON and indexLines make of the tree.

// fastSink receives a document as fastParse reads it: collections open
// and end, a mapping's keys come before their values. After fastParse
// declines a document, what its sink received is to be discarded.
type fastSink interface {
	beginMapping(line int)
	beginSequence(line int)
	end()
	key(k scalarTok, line int)
	scalar(v scalarTok, line int)
	// null is a value left empty ("key:" with nothing below).
	null(line int)
}

// scalarTok is a scalar as written: its text when that is its value,
// else (escapes, doubled quotes) its unescaped value.
type scalarTok struct {
	text    []byte
	value   string
	escaped bool
	// plain scalars (written without quotes) have their type resolved
	// from the text: null, bool, int, float, else str.
	plain bool
}

// is reports whether the scalar's value is v.
func (t scalarTok) is(v string) bool {
	if t.escaped {
		return t.value == v
	}
	return string(t.text) == v
}

// String returns the scalar's value.
func (t scalarTok) String() string {
	if t.escaped {
		return t.value
	}
	return string(t.text)
}

// fastLine is one line of a document with content: its number in the
// stream, its indentation and its text.
type fastLine struct {
	n      int
	indent int
	text   []byte
}

func (l *fastLine) content() []byte { return l.text[l.indent:] }

type fastParser struct {
	lines []fastLine
	i     int
	depth int
	out   fastSink
}

// fastParse parses doc, one YAML document (no "---" line inside, except
// as its first line), whose first line is line firstLine of the stream,
// into out. It is false when doc is outside the subset described above.
func fastParse(doc []byte, firstLine int, out fastSink) bool {
	var p fastParser
	return p.parse(doc, firstLine, out)
}

// parse is fastParse reusing p's buffers, which a decoder keeps from one
// document to the next.
func (p *fastParser) parse(doc []byte, firstLine int, out fastSink) bool {
	lines, ok := fastLines(p.lines[:0], doc, firstLine)
	*p = fastParser{lines: lines, out: out}
	if !ok || len(lines) == 0 {
		return false
	}
	return p.block(-1) && p.i == len(p.lines)
}

// fastLines appends to out the lines of doc with content, skipping blank
// lines, comment lines and a leading "---" line; ok is false for a
// character or marker the fast subset does not handle.
func fastLines(out []fastLine, doc []byte, firstLine int) ([]fastLine, bool) {
	n := firstLine
	for start := 0; start < len(doc); n++ {
		text := doc[start:]
		if end := bytes.IndexByte(text, '\n'); end >= 0 {
			text = text[:end]
			start += end + 1
		} else {
			start = len(doc)
		}
		for _, c := range text {
			if c < 0x20 || c >= 0x7f { // tabs, CR, control characters, non-ASCII
				return out[:0], false
			}
		}
		indent := 0
		for indent < len(text) && text[indent] == ' ' {
			indent++
		}
		if indent == len(text) || text[indent] == '#' {
			continue
		}
		if bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("...")) {
			marker := bytes.HasPrefix(text, []byte("---")) && (len(text) == 3 || text[3] == ' ')
			if n != firstLine || !marker || !blankOrComment(text[3:]) {
				return out[:0], false
			}
			continue
		}
		out = append(out, fastLine{n: n, indent: indent, text: text})
	}
	return out, true
}

// blankOrComment reports whether s is spaces, optionally followed by a
// comment that starts after a space (or at the start of s).
func blankOrComment(s []byte) bool {
	for i, c := range s {
		switch {
		case c == ' ':
		case c == '#' && (i == 0 || s[i-1] == ' '):
			return true
		default:
			return false
		}
	}
	return true
}

// maxImplicitKey bounds the length of a key written without "?": YAML
// allows 1024 characters, and libyaml refuses longer ones.
const maxImplicitKey = 1000

func isSeqItem(c []byte) bool { return len(c) > 0 && c[0] == '-' && (len(c) == 1 || c[1] == ' ') }

// block parses the node starting at the current line, which is indented
// more than parent (or as much, for a sequence that is a mapping's value).
func (p *fastParser) block(parent int) bool {
	l := &p.lines[p.i]
	c := l.content()
	if isSeqItem(c) {
		return p.seq(l.indent)
	}
	if _, _, ok := splitKey(c); ok {
		return p.mapping(l.indent)
	}
	return p.lineValue(c, l.n, parent)
}

// lineValue parses s, the rest of the current line, as a scalar or flow
// collection, and moves to the next line, which must not continue it
// (be indented more than parent).
func (p *fastParser) lineValue(s []byte, line, parent int) bool {
	rest, ok := p.value(skipSpaces(s), line, false)
	if !ok || !blankOrComment(rest) {
		return false
	}
	p.i++
	// Indented more: a multi-line scalar, or an error.
	return p.i == len(p.lines) || p.lines[p.i].indent <= parent
}

// next returns the current line of a block collection indented ind; done
// when the collection has ended (no line left, or one indented less), bad
// for a line indented more, which no entry of it can start.
func (p *fastParser) next(ind int) (l *fastLine, done, bad bool) {
	if p.i == len(p.lines) || p.lines[p.i].indent < ind {
		return nil, true, false
	}
	return &p.lines[p.i], false, p.lines[p.i].indent > ind
}

// enter counts one more level of nesting, and reports whether it is
// within maxDepth (deeper documents are left to yaml.v3); leave undoes it.
func (p *fastParser) enter() bool {
	p.depth++
	return p.depth <= maxDepth
}

func (p *fastParser) leave() { p.depth-- }

// below parses the value of the entry on line, whose line ends after its
// indicator: the block indented more than ind on the lines that follow, a
// sequence at ind itself for a mapping entry (seqAtIndent), or else null.
func (p *fastParser) below(ind, line int, seqAtIndent bool) bool {
	p.i++
	switch {
	case p.i < len(p.lines) && p.lines[p.i].indent > ind:
		return p.block(ind)
	case seqAtIndent && p.i < len(p.lines) && p.lines[p.i].indent == ind && isSeqItem(p.lines[p.i].content()):
		return p.seq(ind)
	}
	p.out.null(line)
	return true
}

// mapping parses a block mapping whose keys are indented ind.
func (p *fastParser) mapping(ind int) bool {
	if !p.enter() {
		return false
	}
	defer p.leave()
	p.out.beginMapping(p.lines[p.i].n)
	for {
		l, done, bad := p.next(ind)
		if bad {
			return false
		}
		if done {
			break
		}
		key, rest, ok := splitKey(l.content())
		if !ok || len(key) > maxImplicitKey || !p.key(key, l.n) {
			return false
		}
		if blankOrComment(rest) {
			ok = p.below(ind, l.n, true)
		} else {
			ok = p.lineValue(rest, l.n, ind)
		}
		if !ok {
			return false
		}
	}
	p.out.end()
	return true
}

// seq parses a block sequence whose "-" are indented ind.
func (p *fastParser) seq(ind int) bool {
	if !p.enter() {
		return false
	}
	defer p.leave()
	p.out.beginSequence(p.lines[p.i].n)
	for {
		l, done, bad := p.next(ind)
		if bad {
			return false
		}
		if done {
			break
		}
		c := l.content()
		if !isSeqItem(c) {
			break // the next key of the mapping this sequence is a value of
		}
		j := 1
		for j < len(c) && c[j] == ' ' {
			j++
		}
		rest := c[j:]
		var ok bool
		switch {
		case blankOrComment(rest):
			ok = p.below(ind, l.n, false)
		case isSeqItem(rest):
			return false
		default:
			if _, _, isKey := splitKey(rest); isKey {
				// A mapping starting on the item's line: its keys are
				// indented to where the first one is written.
				l.indent += j
				ok = p.mapping(l.indent)
			} else {
				ok = p.lineValue(rest, l.n, ind)
			}
		}
		if !ok {
			return false
		}
	}
	p.out.end()
	return true
}

// splitKey splits c, a line's content, into the key and what follows its
// ":" when c is a block mapping entry.
func splitKey(c []byte) (key, rest []byte, ok bool) {
	if len(c) == 0 {
		return nil, nil, false
	}
	i := 0
	switch c[0] {
	case '{', '[':
		return nil, nil, false // a flow collection as a key: left to yaml.v3
	case '"', '\'':
		end, ok := quotedEnd(c)
		if !ok {
			return nil, nil, false
		}
		i = end
		for i < len(c) && c[i] == ' ' {
			i++
		}
		if i < len(c) && c[i] == ':' && (i+1 == len(c) || c[i+1] == ' ') {
			return c[:end], c[i+1:], true
		}
		return nil, nil, false
	}
	for ; i < len(c); i++ {
		switch c[i] {
		case ':':
			if i+1 == len(c) || c[i+1] == ' ' {
				return c[:i], c[i+1:], true
			}
		case '#':
			if i > 0 && c[i-1] == ' ' {
				return nil, nil, false
			}
		}
	}
	return nil, nil, false
}

// quotedEnd returns the offset just past the closing quote of the quoted
// scalar s starts with.
func quotedEnd(s []byte) (int, bool) {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q:
			if q == '\'' && i+1 < len(s) && s[i+1] == '\'' {
				i++
				continue
			}
			return i + 1, true
		}
	}
	return 0, false
}

// key parses a block mapping key.
func (p *fastParser) key(s []byte, line int) bool {
	k, rest, ok := p.scalar(bytes.TrimRight(s, " "), false, false)
	if !ok || len(rest) != 0 {
		return false
	}
	p.out.key(k, line)
	return true
}

// value parses the scalar or flow collection s starts with and returns
// what follows it. In a flow collection (flow) plain scalars end at flow
// indicators too.
func (p *fastParser) value(s []byte, line int, flow bool) ([]byte, bool) {
	if len(s) > 0 && (s[0] == '{' || s[0] == '[') {
		return p.flowCollection(s, line)
	}
	v, rest, ok := p.scalar(s, flow, false)
	if ok {
		p.out.scalar(v, line)
	}
	return rest, ok
}

// scalar parses the scalar s starts with and returns what follows it. In
// a flow collection (flow) plain scalars end at flow indicators too, and a
// flow mapping's key (key) at its ":".
func (p *fastParser) scalar(s []byte, flow, key bool) (scalarTok, []byte, bool) {
	if len(s) == 0 {
		return scalarTok{}, nil, false
	}
	switch s[0] {
	case '"':
		end, ok := quotedEnd(s)
		if !ok {
			return scalarTok{}, nil, false
		}
		text := s[1 : end-1]
		if bytes.IndexByte(text, '\\') < 0 {
			return scalarTok{text: text}, s[end:], true
		}
		v, ok := unescapeDouble(text)
		return scalarTok{value: v, escaped: true}, s[end:], ok
	case '\'':
		end, ok := quotedEnd(s)
		if !ok {
			return scalarTok{}, nil, false
		}
		text := s[1 : end-1]
		if bytes.IndexByte(text, '\'') < 0 {
			return scalarTok{text: text}, s[end:], true
		}
		v := string(bytes.ReplaceAll(text, []byte("''"), []byte("'")))
		return scalarTok{value: v, escaped: true}, s[end:], true
	case ' ', ',', ']', '}', '{', '[', '#', '&', '*', '!', '|', '>', '%', '@', '`':
		return scalarTok{}, nil, false
	case '-', '?', ':':
		// libyaml reads "?" and ":" at the start of a flow scalar as
		// indicators whatever follows them.
		if len(s) == 1 || s[1] == ' ' || (flow && (s[0] != '-' || isFlowIndicator(s[1]))) {
			return scalarTok{}, nil, false
		}
	}
	end := len(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ':' && (i+1 == len(s) || s[i+1] == ' ' || (flow && isFlowIndicator(s[i+1]))) {
			if !key {
				return scalarTok{}, nil, false // a key where a value belongs
			}
			end = i
			break
		}
		if c == '#' && s[i-1] == ' ' {
			end = i
			break
		}
		if flow && c == '?' {
			return scalarTok{}, nil, false // libyaml ends a flow scalar there, and then refuses it
		}
		if flow && (isFlowIndicator(c) || c == '[' || c == '{') {
			end = i
			break
		}
	}
	v := bytes.TrimRight(s[:end], " ")
	if len(v) == 0 || string(v) == "<<" {
		return scalarTok{}, nil, false
	}
	return scalarTok{text: v, plain: true}, s[end:], true
}

func isFlowIndicator(c byte) bool { return c == ',' || c == ']' || c == '}' }

// flowCollection parses a flow mapping or sequence that ends on its line.
func (p *fastParser) flowCollection(s []byte, line int) ([]byte, bool) {
	if !p.enter() {
		return nil, false
	}
	defer p.leave()
	mapping := s[0] == '{'
	closing := byte(']')
	if mapping {
		closing = '}'
		p.out.beginMapping(line)
	} else {
		p.out.beginSequence(line)
	}
	s = skipSpaces(s[1:])
	if len(s) > 0 && s[0] == closing {
		p.out.end()
		return s[1:], true
	}
	for {
		var rest []byte
		if mapping {
			k, r, ok := p.scalar(s, true, true)
			if !ok || len(s)-len(r) > maxImplicitKey {
				return nil, false
			}
			p.out.key(k, line)
			// The key ends where a plain scalar ends (": " or ":" before an
			// indicator) or right after a quoted one.
			r = skipSpaces(r)
			if len(r) < 2 || r[0] != ':' || r[1] != ' ' {
				return nil, false
			}
			if rest, ok = p.value(skipSpaces(r[1:]), line, true); !ok {
				return nil, false
			}
		} else {
			var ok bool
			if rest, ok = p.value(s, line, true); !ok {
				return nil, false
			}
		}
		rest = skipSpaces(rest)
		switch {
		case len(rest) > 0 && rest[0] == closing:
			p.out.end()
			return rest[1:], true
		case len(rest) > 0 && rest[0] == ',':
			s = skipSpaces(rest[1:])
		default:
			return nil, false
		}
	}
}

func skipSpaces(s []byte) []byte {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// unescapeDouble decodes the text of a one-line double-quoted scalar; ok
// is false for an escape this subset leaves to yaml.v3.
func unescapeDouble(s []byte) (string, bool) {
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s), true
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i++; i == len(s) {
			return "", false
		}
		switch s[i] {
		case '\\', '"':
			out = append(out, s[i])
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'u':
			if i+4 >= len(s) {
				return "", false
			}
			r, err := strconv.ParseUint(string(s[i+1:i+5]), 16, 32)
			if err != nil || (r >= 0xd800 && r < 0xe000) {
				return "", false
			}
			out = utf8.AppendRune(out, rune(r))
			i += 4
		default:
			return "", false
		}
	}
	return string(out), true
}
