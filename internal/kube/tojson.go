package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// maxDepth bounds nesting while converting a YAML node tree to JSON, which
// also stops aliases that refer to an enclosing node.
const maxDepth = 256

var errTooLarge = errors.New("document expands (through aliases) beyond the size limit")

// lineError is a problem at a line of the file, inside a document: the
// decoder reports it there rather than at the document's first line.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }
func (e *lineError) Unwrap() error { return e.err }

func atLine(line int, format string, args ...any) error {
	return &lineError{line: line, err: fmt.Errorf(format, args...)}
}

// jsonWriter converts a YAML node tree to JSON bytes, resolving aliases and
// merge keys, within a byte budget so that alias bombs cannot exhaust memory.
type jsonWriter struct {
	buf    bytes.Buffer
	budget int
}

// toJSON returns the JSON encoding of n, at most budget bytes long.
func toJSON(n *yaml.Node, budget int) ([]byte, error) {
	w := &jsonWriter{budget: budget}
	if err := w.node(n, 0); err != nil {
		return nil, err
	}
	return w.buf.Bytes(), nil
}

func (w *jsonWriter) write(b []byte) error {
	if w.buf.Len()+len(b) > w.budget {
		return errTooLarge
	}
	w.buf.Write(b)
	return nil
}

func (w *jsonWriter) node(n *yaml.Node, depth int) error {
	if depth > maxDepth {
		return atLine(n.Line, "nesting deeper than %d levels", maxDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return w.write([]byte("null"))
		}
		return w.node(n.Content[0], depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return atLine(n.Line, "unknown alias")
		}
		return w.node(n.Alias, depth+1)
	case yaml.SequenceNode:
		if err := w.write([]byte{'['}); err != nil {
			return err
		}
		for i, c := range n.Content {
			if i > 0 {
				if err := w.write([]byte{','}); err != nil {
					return err
				}
			}
			if err := w.node(c, depth+1); err != nil {
				return err
			}
		}
		return w.write([]byte{']'})
	case yaml.MappingNode:
		return w.mapping(n, depth)
	case yaml.ScalarNode:
		return w.scalar(n)
	}
	return atLine(n.Line, "unexpected YAML node kind %d", n.Kind)
}

// pairs returns the key/value pairs of mapping n with merge keys ("<<")
// expanded; keys written in n override merged ones.
func pairs(n *yaml.Node, depth int) ([]*yaml.Node, error) {
	if depth > maxDepth {
		return nil, atLine(n.Line, "nesting deeper than %d levels", maxDepth)
	}
	var own, merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			srcs := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				srcs = v.Content
			}
			for _, s := range srcs {
				for s.Kind == yaml.AliasNode && s.Alias != nil && depth < maxDepth {
					s = s.Alias
					depth++
				}
				if s.Kind != yaml.MappingNode {
					return nil, atLine(v.Line, "merge key value is not a mapping")
				}
				p, err := pairs(s, depth+1)
				if err != nil {
					return nil, err
				}
				merged = append(merged, p...)
			}
			continue
		}
		own = append(own, k, v)
	}
	if merged == nil {
		return own, nil
	}
	seen := make(map[string]bool, len(own)/2)
	for i := 0; i < len(own); i += 2 {
		seen[own[i].Value] = true
	}
	out := own
	for i := 0; i+1 < len(merged); i += 2 {
		if !seen[merged[i].Value] {
			seen[merged[i].Value] = true
			out = append(out, merged[i], merged[i+1])
		}
	}
	return out, nil
}

func (w *jsonWriter) mapping(n *yaml.Node, depth int) error {
	ps := n.Content
	for i := 0; i < len(ps); i += 2 {
		if ps[i].Tag == "!!merge" {
			var err error
			if ps, err = pairs(n, depth); err != nil {
				return err
			}
			break
		}
	}
	if len(ps)%2 != 0 {
		return atLine(n.Line, "mapping with a key and no value")
	}
	if err := w.write([]byte{'{'}); err != nil {
		return err
	}
	for i := 0; i < len(ps); i += 2 {
		k := ps[i]
		for k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			return atLine(k.Line, "mapping key is not a scalar")
		}
		if i > 0 {
			if err := w.write([]byte{','}); err != nil {
				return err
			}
		}
		if err := w.str(k.Value); err != nil {
			return err
		}
		if err := w.write([]byte{':'}); err != nil {
			return err
		}
		if err := w.node(ps[i+1], depth+1); err != nil {
			return err
		}
	}
	return w.write([]byte{'}'})
}

func (w *jsonWriter) str(s string) error { return writeJSONString(w, s) }

// writeJSONString writes s as a JSON string.
func writeJSONString[T string | []byte](w *jsonWriter, s T) error {
	if plain(s) {
		if w.buf.Len()+len(s)+2 > w.budget {
			return errTooLarge
		}
		w.buf.WriteByte('"')
		w.buf.Write([]byte(s))
		w.buf.WriteByte('"')
		return nil
	}
	b, err := json.Marshal(string(s))
	if err != nil {
		return err
	}
	return w.write(b)
}

func (w *jsonWriter) scalar(n *yaml.Node) error { return w.scalarValue(n.Tag, n.Value, n.Line) }

// scalarValue writes the scalar value on line, tagged tag, as JSON.
func (w *jsonWriter) scalarValue(tag, value string, line int) error {
	// decode reads value as yaml.v3 reads a node so tagged.
	decode := func(v any) error {
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value, Line: line}
		return n.Decode(v)
	}
	switch tag {
	case "!!null":
		return w.write([]byte("null"))
	case "!!bool":
		var b bool
		if err := decode(&b); err != nil {
			return atLine(line, "%w", err)
		}
		return w.write([]byte(strconv.FormatBool(b)))
	case "!!int":
		if isDecimal(value) {
			return w.write([]byte(value))
		}
		var v int64
		if err := decode(&v); err != nil {
			// Out of int64 range: keep the digits as a string.
			return w.str(value)
		}
		return w.write([]byte(strconv.FormatInt(v, 10)))
	case "!!float":
		var f float64
		if err := decode(&f); err != nil {
			return atLine(line, "%w", err)
		}
		b, err := json.Marshal(f)
		if err != nil {
			return atLine(line, "number %q has no JSON form", value)
		}
		return w.write(b)
	}
	// !!str, !!timestamp, !!binary and custom tags: the text as written.
	return w.str(value)
}

func isDecimal[T string | []byte](s T) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if len(s) == 0 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// plain reports whether s needs no escaping inside a JSON string.
func plain[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}
