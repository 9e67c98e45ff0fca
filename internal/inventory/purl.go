package inventory

import (
	"slices"
	"strings"
)

// PURL is a package URL (github.com/package-url/purl-spec).
type PURL struct {
	Type       string      // "deb", "npm"
	Namespace  string      // "debian", "@babel", "org.apache.logging.log4j"; segments split on "/"
	Name       string      // required
	Version    string      // optional
	Qualifiers [][2]string // key/value pairs; empty values are dropped, keys sorted
	Subpath    string      // optional
}

// String renders the purl with the spec's escaping: each namespace
// segment, the name, the version and qualifier values are percent-encoded
// except for unreserved characters (and ':' and '+' in names and versions,
// which the spec lets through and Debian versions use).
func (p PURL) String() string {
	var b strings.Builder
	b.WriteString("pkg:")
	b.WriteString(strings.ToLower(p.Type))
	b.WriteByte('/')
	if p.Namespace != "" {
		for _, seg := range strings.Split(strings.Trim(p.Namespace, "/"), "/") {
			if seg == "" {
				continue
			}
			b.WriteString(escape(seg, ":+"))
			b.WriteByte('/')
		}
	}
	b.WriteString(escape(p.Name, ":+"))
	if p.Version != "" {
		b.WriteByte('@')
		b.WriteString(escape(p.Version, ":+"))
	}
	q := slices.Clone(p.Qualifiers)
	q = slices.DeleteFunc(q, func(kv [2]string) bool { return kv[1] == "" })
	slices.SortFunc(q, func(a, c [2]string) int { return strings.Compare(strings.ToLower(a[0]), strings.ToLower(c[0])) })
	for i, kv := range q {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(strings.ToLower(kv[0]))
		b.WriteByte('=')
		b.WriteString(escape(kv[1], ":"))
	}
	if sp := strings.Trim(p.Subpath, "/"); sp != "" {
		b.WriteByte('#')
		for i, seg := range strings.Split(sp, "/") {
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(escape(seg, ""))
		}
	}
	return b.String()
}

const upperhex = "0123456789ABCDEF"

// escape percent-encodes every byte of s that is not an RFC 3986
// unreserved character or in keep.
func escape(s, keep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c < 0x80 && strings.IndexByte(keep, c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(upperhex[c>>4])
			b.WriteByte(upperhex[c&15])
		}
	}
	return b.String()
}
