package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// minTokenLen rejects guessable tokens: 16 characters of hex is 64 bits.
const minTokenLen = 16

// Principal is who an API token belongs to.
type Principal struct {
	Name   string
	Groups []string
}

// Tokens authenticates API bearer tokens. It keeps only SHA-256 digests, so
// a heap dump or a debug print of the server does not reveal them.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	digest    [sha256.Size]byte
	principal Principal
}

// String and LogValue keep token material out of prints and logs.
func (t *Tokens) String() string { return fmt.Sprintf("%d API tokens (REDACTED)", len(t.entries)) }

// LogValue implements slog.LogValuer.
func (t *Tokens) LogValue() slog.Value { return slog.StringValue(t.String()) }

// ParseTokens reads a token file: one "token,name[,group...]" per line, the
// format of kube-apiserver's --token-auth-file; '#' starts a comment line.
func ParseTokens(name string, data []byte) (*Tokens, error) {
	t := &Tokens{}
	seen := map[[sha256.Size]byte]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, ",")
		for i := range fields {
			fields[i] = strings.Trim(strings.TrimSpace(fields[i]), `"`)
		}
		if len(fields) < 2 || fields[1] == "" {
			return nil, fmt.Errorf("%s:%d: want token,name[,group...]", name, line)
		}
		if len(fields[0]) < minTokenLen {
			// Never echo the token itself.
			return nil, fmt.Errorf("%s:%d: token for %q is shorter than %d characters", name, line, fields[1], minTokenLen)
		}
		d := sha256.Sum256([]byte(fields[0]))
		if seen[d] {
			return nil, fmt.Errorf("%s:%d: token for %q repeats an earlier line", name, line, fields[1])
		}
		seen[d] = true
		t.entries = append(t.entries, tokenEntry{digest: d, principal: Principal{Name: fields[1], Groups: fields[2:]}})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(t.entries) == 0 {
		return nil, fmt.Errorf("%s: no tokens", name)
	}
	return t, nil
}

// LoadTokens reads a token file from disk.
func LoadTokens(path string) (*Tokens, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read API tokens: %w", err)
	}
	return ParseTokens(path, data)
}

// Authenticate returns the principal of token. Every entry is compared, in
// constant time, so the answer's timing does not depend on which one matched.
func (t *Tokens) Authenticate(token string) (Principal, bool) {
	d := sha256.Sum256([]byte(token))
	var found Principal
	ok := 0
	for i := range t.entries {
		if subtle.ConstantTimeCompare(d[:], t.entries[i].digest[:]) == 1 {
			found, ok = t.entries[i].principal, 1
		}
	}
	return found, ok == 1
}

// AuditSourceGroup is the token group that lets an API server deliver audit
// events; the token's name is the cluster's name.
const AuditSourceGroup = "palisade:audit-sources"

// AuditSource names the cluster whose API server sent r: the name of a
// bearer token in AuditSourceGroup.
func (t *Tokens) AuditSource(r *http.Request) (string, bool) {
	token, ok := BearerToken(r)
	if !ok {
		return "", false
	}
	p, ok := t.Authenticate(token)
	if !ok || !slices.Contains(p.Groups, AuditSourceGroup) {
		return "", false
	}
	return p.Name, true
}

// EnsureTokenFile returns the token file at path, creating it with one fresh
// admin token (mode 0600) when it does not exist, so `palisade serve` is
// authenticated from its first start without anyone choosing a weak token.
func EnsureTokenFile(path string) (created bool, err error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("check API token file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("create API token directory: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return false, fmt.Errorf("generate API token: %w", err)
	}
	content := "# palisade API tokens: token,name[,group...]\n" + hex.EncodeToString(b) + ",admin,palisade:admins\n"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return false, fmt.Errorf("create API token file: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return false, fmt.Errorf("write API token file: %w", err)
	}
	return true, f.Close()
}
