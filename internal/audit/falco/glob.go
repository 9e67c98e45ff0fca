package falco

import "path"

// globMatch matches Falco's glob operator; '*' crosses '/' there, unlike
// path.Match, so slashes are matched as ordinary characters by trying the
// pattern against the string with '/' replaced.
func globMatch(pattern, s string) (bool, error) {
	const sub = "\x00"
	return path.Match(replaceSlash(pattern, sub), replaceSlash(s, sub))
}

func replaceSlash(s, with string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			b = append(b, with...)
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}
