package checks

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// secretName matches names of variables and keys that usually hold secrets.
var secretName = regexp.MustCompile(`(?i)(passw(or)?d|passwd|secret|token|api[_-]?key|apikey|private[_-]?key|access[_-]?key|credential|auth[_-]?key|client[_-]?secret|conn(ection)?[_-]?string)`)

// secretNameHints holds a substring of every match of secretName and of
// secretNameV4, in lower case: a name with none of them cannot match, and
// most names have none, so the regexp (the costliest part of a scan's
// secret checks) runs on few.
var secretNameHints = []string{"passw", "secret", "token", "api", "private", "access", "credential", "auth", "client", "conn", "pwd", "key"}

// maybeSecretName reports whether secretName may match name: false only
// when name is ASCII and holds no hint. (?i) folds some non-ASCII letters
// to ASCII ones (ſ to s, K to k), so for those the regexp decides.
func maybeSecretName(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			return true
		}
	}
	for _, h := range secretNameHints {
		if containsFoldASCII(name, h) {
			return true
		}
	}
	return false
}

// containsFoldASCII reports whether s contains lower, an ASCII lower-case
// string, ignoring the case of ASCII letters in s.
func containsFoldASCII(s, lower string) bool {
	for i := 0; i+len(lower) <= len(s); i++ {
		j := 0
		for ; j < len(lower); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lower[j] {
				break
			}
		}
		if j == len(lower) {
			return true
		}
	}
	return false
}

// notSecretName matches names that refer to a secret without holding it.
var notSecretName = regexp.MustCompile(`(?i)([_-](file|path|name|dir|url|ref|key_?id|length|len|ttl|expiry|enabled|header|policy|type)$|^.*_secret_name$)`)

// secretValue matches values that are credentials whatever their name.
var secretValue = regexp.MustCompile(`(A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|gh[pousr]_[A-Za-z0-9]{36}|xox[baprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|sk_live_[0-9a-zA-Z]{24,}`)

// placeholder matches values that are clearly not real secrets.
var placeholder = regexp.MustCompile(`(?i)^(\$\{.*\}|\$\(.*\)|<.*>|\{\{.*\}\}|changeme|change-me|xxx+|\*+|true|false|yes|no|none|null|example|redacted|dummy|test)$`)

// looksSecret reports whether a name/value pair looks like a literal
// secret, and says why.
func looksSecret(name, value string) (bool, string) {
	v := strings.TrimSpace(value)
	if v == "" {
		return false, ""
	}
	if m := secretValue.FindString(v); m != "" {
		return true, "value looks like a credential"
	}
	// The cheap tests go first; the outcome does not depend on the order.
	if len(v) < 4 || strings.HasPrefix(v, "/") || !maybeSecretName(name) {
		return false, ""
	}
	if secretName.MatchString(name) && !notSecretName.MatchString(name) && !placeholder.MatchString(v) {
		return true, "name " + name + " suggests a secret"
	}
	return false, ""
}
