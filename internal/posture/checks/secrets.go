package checks

import (
	"regexp"
	"strings"
)

// secretName matches names of variables and keys that usually hold secrets.
var secretName = regexp.MustCompile(`(?i)(passw(or)?d|passwd|secret|token|api[_-]?key|apikey|private[_-]?key|access[_-]?key|credential|auth[_-]?key|client[_-]?secret|conn(ection)?[_-]?string)`)

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
	if len(v) < 4 || placeholder.MatchString(v) || strings.HasPrefix(v, "/") {
		return false, ""
	}
	if secretName.MatchString(name) && !notSecretName.MatchString(name) {
		return true, "name " + name + " suggests a secret"
	}
	return false, ""
}
