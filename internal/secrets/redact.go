package secrets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"unicode/utf8"
)

// Fingerprint identifies a secret without revealing it: the SHA-256 of the
// rule ID and the secret, hex, truncated to 128 bits. The same secret
// found by the same rule anywhere, in any image, has the same fingerprint,
// so an Allowlist can name it. For file rules the "secret" is the file's
// content digest ("sha256:…"), or "path:" and the path when the file was
// too large to read: allowlisting one .env silences that content only.
func Fingerprint(ruleID, secret string) string {
	h := sha256.New()
	h.Write([]byte(ruleID))
	h.Write([]byte{0})
	h.Write([]byte(secret))
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Redact returns a form of secret that is safe to print: at most its first
// four characters (fewer for short secrets: never more than a quarter of
// it), an ellipsis and its length, as in "ghp_…(40 chars)".
func Redact(secret string) string {
	n := utf8.RuneCountInString(secret)
	show := min(4, n/4)
	i := 0
	for range show {
		_, size := utf8.DecodeRuneInString(secret[i:])
		i += size
	}
	prefix := secret[:i]
	for j := 0; j < len(prefix); j++ {
		if c := prefix[j]; c < 0x20 || c == 0x7f {
			prefix = "" // never echo control bytes
			break
		}
	}
	return fmt.Sprintf("%s…(%d chars)", prefix, n)
}
