package finding

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// findingJSON appends f to dst as encoding/json's indented encoding of a
// Finding (newJSONEncoder with prefix, without the final newline) would
// write it, byte for byte, in a fraction of the time: encoding/json encodes
// compactly and then re-scans every byte to indent, and with 100,000
// findings that was most of the time a JSON report took to write.
// TestFindingJSONMatchesEncodingJSON fills every field of Finding by
// reflection and compares, so a field added to Finding (or its parts)
// without being added here fails the tests.
func findingJSON(dst []byte, prefix string, f *Finding) ([]byte, error) {
	sev, err := f.Severity.MarshalText()
	if err != nil {
		return dst, err
	}
	o := jsonObject{dst: dst, prefix: prefix}
	o.open()
	o.str("id", f.ID)
	o.str("ruleId", f.RuleID)
	o.str("title", f.Title)
	o.str("severity", string(sev))
	o.strOmit("category", f.Category)
	o.key("resource")
	r := &f.Resource
	o.open()
	o.strOmit("cluster", r.Cluster)
	o.strOmit("namespace", r.Namespace)
	o.strOmit("apiVersion", r.APIVersion)
	o.strOmit("kind", r.Kind)
	o.strOmit("name", r.Name)
	o.strOmit("container", r.Container)
	o.strOmit("image", r.Image)
	o.strOmit("imageDigest", r.ImageDigest)
	o.strOmit("file", r.File)
	o.intOmit("line", r.Line)
	o.intOmit("column", r.Column)
	o.close()
	o.str("message", f.Message)
	if len(f.Evidence) > 0 {
		o.key("evidence")
		o.openArray()
		for i := range f.Evidence {
			e := &f.Evidence[i]
			o.elem()
			o.open()
			o.str("name", e.Name)
			o.str("value", e.Value)
			if e.Key {
				o.key("key")
				o.dst = append(o.dst, "true"...)
			}
			o.close()
		}
		o.closeArray()
	}
	o.strOmit("remediation", f.Remediation)
	if len(f.References) > 0 {
		o.key("references")
		o.openArray()
		for _, ref := range f.References {
			o.elem()
			o.value(ref)
		}
		o.closeArray()
	}
	if len(f.Controls) > 0 {
		o.key("controls")
		o.openArray()
		for i := range f.Controls {
			o.elem()
			o.open()
			o.str("framework", f.Controls[i].Framework)
			o.str("id", f.Controls[i].ID)
			o.close()
		}
		o.closeArray()
	}
	o.str("status", string(f.Status))
	if e := f.Exception; e != nil {
		o.key("exception")
		o.open()
		o.str("id", e.ID)
		o.str("owner", e.Owner)
		o.str("reason", e.Reason)
		if !e.Expires.IsZero() {
			o.key("expires")
			if o.dst, err = appendJSONTime(o.dst, e.Expires); err != nil {
				return dst, err
			}
		}
		o.close()
	}
	o.close()
	if o.err != nil {
		return dst, o.err
	}
	return o.dst, nil
}

// jsonObject writes indented JSON as encoding/json's indentation does: a
// member or element per line, two spaces per level after prefix, and an
// empty object or array as {} or [].
type jsonObject struct {
	dst    []byte
	prefix string
	depth  int   // containers open: members and elements are indented this many levels
	first  bool  // nothing written yet in the innermost open container
	err    error // the first error, returned by the caller
}

func (o *jsonObject) open()       { o.begin('{') }
func (o *jsonObject) openArray()  { o.begin('[') }
func (o *jsonObject) close()      { o.end('}') }
func (o *jsonObject) closeArray() { o.end(']') }

func (o *jsonObject) begin(c byte) {
	o.dst = append(o.dst, c)
	o.first = true
	o.depth++
}

// end closes the innermost container, on a line of its own unless empty.
func (o *jsonObject) end(c byte) {
	o.depth--
	if !o.first {
		o.newline()
	}
	o.dst = append(o.dst, c)
	o.first = false // the container just closed is its parent's member
}

// newline starts a line indented o.depth levels.
func (o *jsonObject) newline() {
	o.dst = append(o.dst, '\n')
	o.dst = append(o.dst, o.prefix...)
	for range o.depth {
		o.dst = append(o.dst, ' ', ' ')
	}
}

// elem starts the next element of an array.
func (o *jsonObject) elem() {
	if !o.first {
		o.dst = append(o.dst, ',')
	}
	o.first = false
	o.newline()
}

// key starts the next member of an object with its name.
func (o *jsonObject) key(name string) {
	o.elem()
	o.value(name)
	o.dst = append(o.dst, ':', ' ')
}

func (o *jsonObject) str(name, v string) {
	o.key(name)
	o.value(v)
}

// strOmit is str for a member tagged omitempty.
func (o *jsonObject) strOmit(name, v string) {
	if v != "" {
		o.str(name, v)
	}
}

// intOmit writes an int member tagged omitempty.
func (o *jsonObject) intOmit(name string, v int) {
	if v != 0 {
		o.key(name)
		o.dst = strconv.AppendInt(o.dst, int64(v), 10)
	}
}

// value writes s as a JSON string, escaped as encoding/json escapes it
// with HTML escaping off (FuzzAppendJSONString compares the two): strings
// with nothing to escape, nearly all, are copied.
func (o *jsonObject) value(s string) {
	o.dst = appendJSONString(o.dst, s)
}

// appendJSONString appends s to dst as a JSON string the way encoding/json
// writes it with SetEscapeHTML(false): \b \f \n \r \t, \" and \\ by name,
// other control characters as \u00XX, invalid UTF-8 as \ufffd, and U+2028
// and U+2029 escaped (JavaScript reads them as line ends).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs a look: the strings are
		// mostly plain ASCII messages, and this loop escaped 177,500
		// findings' worth of them byte by byte.
		for i+8 <= len(s) && plainWord(load64(s[i:i+8])) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONTime appends t as encoding/json writes a time.Time.
func appendJSONTime(dst []byte, t time.Time) ([]byte, error) {
	b, err := t.MarshalJSON()
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// plainWord reports whether none of w's eight bytes is a control
// character, '"', '\\' or non-ASCII: the bytes appendJSONString copies
// as they are. (The classic SWAR tests: a byte below n sets its high bit
// in x-n*ones &^ x; an equal byte is a zero byte of w^c*ones.)
func plainWord(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below := (w - 0x20*ones) &^ w
	quote := w ^ '"'*ones
	slash := w ^ '\\'*ones
	hasQuote := (quote - ones) &^ quote
	hasSlash := (slash - ones) &^ slash
	return (w|below|hasQuote|hasSlash)&highs == 0
}

// load64 reads s's first eight bytes as one little-endian word (the
// compiler makes this a single load).
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
