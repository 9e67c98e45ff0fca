package kube

import (
	"slices"
	"strings"
)

// jsonSink writes a document fastParse reads as the JSON toJSON would make
// of its node tree, and its line index as indexLines would, without the
// tree: the tree was a third of what decoding a large file allocated, most
// of it garbage as soon as the document was converted. It takes documents
// that are one object (a mapping with apiVersion and kind, not a List);
// ok reports whether this one was.
type jsonSink struct {
	w    jsonWriter
	keys *lineKeys
	// open holds the collections not yet ended, the root first.
	open []sinkFrame
	// pending holds the line entries of the open collections' children;
	// a collection's are moved to nodes, next to each other, when it ends.
	pending []lineEntry
	// nodes is the line index: the root's entry first, then the children
	// of each collection in the order the collections ended. It is copied
	// out for the object, to the size it took.
	nodes []lineEntry
	// apiVersion and kind are the root's first scalar fields so named.
	apiVersion, kind         string
	haveAPIVersion, haveKind bool
	rootLine                 int
	ok                       bool
}

// sinkFrame is an open collection.
type sinkFrame struct {
	seq      bool
	base     int // len(pending) when it began
	children int
	line     int32
	// The key whose value comes next, in a mapping.
	key     int32
	keyLine int32
	field   rootField
}

// rootField says which field of the root mapping a key names.
type rootField uint8

const (
	otherField rootField = iota
	apiVersionField
	kindField
)

func newJSONSink(keys *lineKeys, budget int) *jsonSink {
	s := &jsonSink{w: jsonWriter{budget: budget}, keys: keys}
	s.reset()
	return s
}

// reset readies s for the next document. The JSON buffer is reused: it is
// garbage once the document is decoded (json.Unmarshal copies what it
// keeps), but the line index is the object's.
func (s *jsonSink) reset() {
	s.w.buf.Reset()
	s.open, s.pending = s.open[:0], s.pending[:0]
	s.nodes = append(s.nodes[:0], lineEntry{})
	s.apiVersion, s.kind, s.haveAPIVersion, s.haveKind = "", "", false, false
	s.rootLine, s.ok = 0, true
}

// fail marks the document as one jsonSink does not take.
func (s *jsonSink) fail() { s.ok = false }

// child begins a value of the innermost open collection: a comma after
// the previous item of a sequence, and the count.
func (s *jsonSink) child() {
	if len(s.open) == 0 {
		return
	}
	f := &s.open[len(s.open)-1]
	if f.seq {
		if f.children > 0 {
			s.w.buf.WriteByte(',')
		}
		f.children++
	}
}

// entry records the line entry of a value of the innermost open
// collection: in a mapping, keyed by the key before it and, unless it is
// a scalar, on the key's line.
func (s *jsonSink) entry(e lineEntry, scalar bool) {
	f := &s.open[len(s.open)-1]
	if !f.seq {
		e.key = f.key
		if !scalar {
			e.line = f.keyLine
		}
	}
	if len(s.pending)+len(s.nodes) >= maxLineNodes {
		s.fail() // indexLines would cut the index short; left to it
	}
	s.pending = append(s.pending, e)
}

func (s *jsonSink) begin(seq bool, line int) {
	if len(s.open) == 0 {
		if seq {
			s.fail() // the document is not an object
		}
		s.rootLine = line
	}
	s.child()
	open := byte('{')
	if seq {
		open = '['
	}
	s.w.buf.WriteByte(open)
	s.open = append(s.open, sinkFrame{seq: seq, base: len(s.pending), line: int32(line), key: noKey})
}

func (s *jsonSink) beginMapping(line int)  { s.begin(false, line) }
func (s *jsonSink) beginSequence(line int) { s.begin(true, line) }

func (s *jsonSink) end() {
	f := s.open[len(s.open)-1]
	s.open = s.open[:len(s.open)-1]
	closing := byte('}')
	if f.seq {
		closing = ']'
	}
	s.w.buf.WriteByte(closing)
	e := lineEntry{key: noKey, line: f.line, first: int32(len(s.nodes)), kids: int32(len(s.pending) - f.base)}
	if f.seq {
		e.kids |= seqKids
	}
	s.nodes = append(s.nodes, s.pending[f.base:]...)
	s.pending = s.pending[:f.base]
	if len(s.open) == 0 {
		s.nodes[0] = e
		return
	}
	s.entry(e, false)
}

func (s *jsonSink) key(k scalarTok, line int) {
	f := &s.open[len(s.open)-1]
	if f.children > 0 {
		s.w.buf.WriteByte(',')
	}
	f.children++
	var err error
	if k.escaped {
		err = s.w.str(k.value)
		f.key = s.keys.id(k.value)
	} else {
		err = writeJSONString(&s.w, k.text)
		f.key = s.keys.idOf(k.text)
	}
	if err != nil {
		s.fail()
	}
	s.w.buf.WriteByte(':')
	f.keyLine = int32(line)
	f.field = otherField
	if len(s.open) == 1 {
		switch {
		case k.is("apiVersion"):
			f.field = apiVersionField
		case k.is("kind"):
			f.field = kindField
		}
	}
}

func (s *jsonSink) scalar(v scalarTok, line int) {
	if len(s.open) == 0 {
		s.fail() // the document is not an object
		return
	}
	s.child()
	s.rootField(v)
	var err error
	switch {
	case v.escaped:
		err = s.w.str(v.value)
	case !v.plain:
		err = writeJSONString(&s.w, v.text)
	default:
		err = s.plainScalar(v.text, line)
	}
	if err != nil {
		s.fail() // left to toJSON, which reports it
	}
	s.entry(lineEntry{key: noKey, line: int32(line)}, true)
}

// plainScalar writes the plain scalar text. Most are strings and decimal
// integers, which are written from the text as it is; yaml.v3 resolves the
// rest (allocating as it tries each type).
func (s *jsonSink) plainScalar(text []byte, line int) error {
	switch {
	case len(text) <= 18 && isDecimal(text):
		s.w.buf.Write(text) // an int64, whatever its digits: !!int
		return nil
	case plainString(text):
		return writeJSONString(&s.w, text)
	}
	v := string(text)
	return s.w.scalarValue(plainTag(v), v, line)
}

// plainString reports whether yaml.v3 resolves the plain scalar text to a
// string, without asking it, for the texts where that is certain. yaml.v3
// goes by the first character: anything but a sign, a digit, '.', '~',
// '<' or a letter of null, true, false, yes, no, on and off is a string
// at once. After those letters (and '~', '<') it looks the text up among
// null, true, false and merge, five characters at most. After a digit or
// a sign it tries a timestamp (four digits and '-', then digits and T, t,
// Z), integers (hexadecimal, 0x, 0o, 0b) and decimal floats: none of them
// holds another letter, and the text's other letters ("100m", "128Mi",
// "--port") make it a string. Only ".inf" and friends, of five
// characters, hold other letters after a sign.
func plainString(text []byte) bool {
	c := text[0]
	switch {
	case !resolvable(c):
		return true
	case c >= '0' && c <= '9':
		return hasNonNumericLetter(text)
	case c == '+' || c == '-':
		return len(text) > 5 && hasNonNumericLetter(text)
	case c == '.':
		return false
	}
	return len(text) > 5
}

// hasNonNumericLetter reports whether text holds a letter that no integer,
// float or timestamp yaml.v3 reads can hold.
func hasNonNumericLetter(text []byte) bool {
	for _, c := range text {
		if ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') && strings.IndexByte("abcdefABCDEFoOxXtTzZ", c) < 0 {
			return true
		}
	}
	return false
}

// resolvable reports whether a plain scalar starting with c may resolve
// to something other than a string.
func resolvable(c byte) bool {
	return strings.IndexByte("+-0123456789.~<yYnNtTfFoO", c) >= 0
}

func (s *jsonSink) null(line int) {
	if len(s.open) == 0 {
		s.fail()
		return
	}
	s.child()
	s.rootField(scalarTok{})
	s.w.buf.WriteString("null")
	s.entry(lineEntry{key: noKey, line: int32(line)}, true)
}

// rootField records v when it is the value of the root's apiVersion or
// kind and the first scalar one.
func (s *jsonSink) rootField(v scalarTok) {
	if len(s.open) != 1 {
		return
	}
	switch f := &s.open[0]; {
	case f.field == apiVersionField && !s.haveAPIVersion:
		s.apiVersion, s.haveAPIVersion = v.String(), true
	case f.field == kindField && !s.haveKind:
		s.kind, s.haveKind = v.String(), true
	}
}

// object returns the document's JSON and line index, and whether it is an
// object jsonSink takes.
func (s *jsonSink) object() (js []byte, lines lineIndex, ok bool) {
	switch {
	case !s.ok, len(s.open) != 0, s.apiVersion == "", s.kind == "",
		strings.HasSuffix(s.kind, "List"), s.w.buf.Len() > s.w.budget:
		return nil, lineIndex{}, false
	}
	return s.w.buf.Bytes(), lineIndex{keys: s.keys, nodes: slices.Clone(s.nodes)}, true
}
