package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder walks a YAML node tree into a Config, strictly: every field is
// known, every value has the right type, no key repeats. It keeps going
// after a problem so that one run reports them all.
type decoder struct {
	src  *source
	errs []*Error
}

// fieldFunc decodes the value v of the field at path.
type fieldFunc func(path string, v *yaml.Node)

// fail records a problem with the value at path (placed where path was
// written) and marks path so that Validate does not judge its default.
func (d *decoder) fail(path string, cause error, format string, args ...any) {
	d.src.bad[path] = true
	d.errs = append(d.errs, d.src.errorAt(path, fmt.Sprintf(format, args...), cause))
}

// failAt records a problem placed at node n.
func (d *decoder) failAt(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.src.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// value returns n ready to decode, or nil when it is null (the field keeps
// its default) or an alias (refused, see below).
func (d *decoder) value(path string, n *yaml.Node) *yaml.Node {
	switch {
	case n.Kind == yaml.AliasNode:
		// Aliases are refused rather than expanded: expansion multiplies
		// work, and a config is short enough to repeat a value.
		d.fail(path, nil, "YAML aliases (%s) are not supported; write the value out", quote("*"+n.Value))
		return nil
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		return nil
	}
	return n
}

// mapping decodes mapping n field by field with the decoders in fields;
// any other key is an error.
func (d *decoder) mapping(path string, n *yaml.Node, fields map[string]fieldFunc) {
	if n = d.value(path, n); n == nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		if path == "" {
			d.fail(path, nil, "want a mapping of sections such as imagePolicy and exceptions, got %s", describe(n))
			return
		}
		d.fail(path, nil, "want a mapping, got %s", describe(n))
		return
	}
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode:
			d.failAt(k, path, "mapping keys must be field names, got %s", describe(k))
			continue
		case k.ShortTag() == "!!merge":
			d.failAt(k, path, "YAML merge keys (<<) are not supported; write the fields out")
			continue
		}
		name := k.Value
		if first, dup := seen[name]; dup {
			d.failAt(k, path, "duplicate key %s (first at line %d)", quote(name), first.Line)
			continue
		}
		seen[name] = k
		fn, ok := fields[name]
		if !ok {
			d.unknown(k, path, fields)
			continue
		}
		p := joinPath(path, name)
		d.src.record(p, k)
		fn(p, v)
	}
}

// isSecretField reports whether a field name asks for a secret inline;
// such fields are refused with a pointer to where secrets belong, rather
// than as mere typos.
func isSecretField(name string) bool {
	switch strings.ToLower(name) {
	case "token", "tokens", "apitoken", "apitokens", "bearertoken", "bearertokens":
		return true
	}
	return false
}

func (d *decoder) unknown(k *yaml.Node, path string, fields map[string]fieldFunc) {
	name := k.Value
	if isSecretField(name) {
		d.failAt(k, path, "field %s is not allowed: API tokens never go in palisade.yaml; put them in the file named by server.tokensFile", quote(name))
		return
	}
	known := make([]string, 0, len(fields))
	for f := range fields {
		known = append(known, f)
	}
	sort.Strings(known)
	msg := "unknown field " + quote(name)
	if path == "" {
		msg += " in config"
	}
	var s string
	if len(d.errs) < maxErrors { // past that the message is never shown
		s = suggest(name, known)
	}
	if s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", quote(s))
	} else {
		msg += " (want one of " + strings.Join(known, ", ") + ")"
	}
	d.failAt(k, path, "%s", msg)
}

func (d *decoder) str(path string, v *yaml.Node, dst *string) {
	if v = d.value(path, v); v == nil {
		return
	}
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		d.fail(path, nil, "want a string, got %s%s", describe(v), quoteHint(v))
		return
	}
	*dst = v.Value
}

func (d *decoder) boolean(path string, v *yaml.Node, dst *bool) {
	if v = d.value(path, v); v == nil {
		return
	}
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
		d.fail(path, nil, "want true or false, got %s", describe(v))
		return
	}
	var b bool
	if err := v.Decode(&b); err != nil {
		d.fail(path, err, "cannot parse %s as a boolean", quote(v.Value))
		return
	}
	*dst = b
}

func (d *decoder) integer(path string, v *yaml.Node, dst *int) {
	if v = d.value(path, v); v == nil {
		return
	}
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
		d.fail(path, nil, "want an integer, got %s", describe(v))
		return
	}
	var i int
	if err := v.Decode(&i); err != nil {
		d.fail(path, err, "cannot parse %s as an integer", quote(v.Value))
		return
	}
	*dst = i
}

func (d *decoder) duration(path string, v *yaml.Node, dst *Duration) {
	if v = d.value(path, v); v == nil {
		return
	}
	switch t := v.ShortTag(); {
	case v.Kind != yaml.ScalarNode || (t != "!!str" && t != "!!int" && t != "!!float"):
		d.fail(path, nil, "want a duration such as 7d or 12h, got %s", describe(v))
		return
	}
	dur, err := ParseDuration(v.Value)
	if err != nil {
		d.fail(path, err, "%v", err)
		return
	}
	*dst = dur
}

// strings decodes a sequence of strings; with single set, a lone string
// is accepted as a one-element list.
func (d *decoder) strings(path string, v *yaml.Node, dst *[]string, single bool) {
	if v = d.value(path, v); v == nil {
		return
	}
	if single && v.Kind == yaml.ScalarNode {
		var s string
		before := len(d.errs)
		if d.str(path, v, &s); len(d.errs) == before {
			*dst = []string{s}
		}
		return
	}
	if v.Kind != yaml.SequenceNode {
		d.fail(path, nil, "want a list of strings, got %s", describe(v))
		return
	}
	out := make([]string, len(v.Content))
	for i, item := range v.Content {
		p := path + "[" + strconv.Itoa(i) + "]"
		d.src.record(p, item)
		d.str(p, item, &out[i])
	}
	*dst = out
}

// optionalStrings decodes a list of strings whose empty list ("[]") is the
// same as none.
func (d *decoder) optionalStrings(path string, v *yaml.Node, dst *[]string) {
	if d.strings(path, v, dst, false); len(*dst) == 0 {
		*dst = nil
	}
}

// describe names the type and value of n for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch t := n.ShortTag(); t {
	case "!!str":
		return "string " + quote(n.Value)
	case "!!int":
		return "integer " + quote(n.Value)
	case "!!float":
		return "number " + quote(n.Value)
	case "!!bool":
		return "boolean " + quote(n.Value)
	case "!!null":
		return "null"
	case "!!timestamp":
		return "timestamp " + quote(n.Value)
	default:
		return "a value tagged " + quote(t)
	}
}

// quoteHint suggests quoting a plain scalar that YAML read as a non-string.
func quoteHint(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Style == 0 {
		switch n.ShortTag() {
		case "!!int", "!!float", "!!bool", "!!timestamp":
			return " (quote it to make it a string)"
		}
	}
	return ""
}
