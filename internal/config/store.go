package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
)

// The store drivers a DSN can select.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Backend is a parsed Store.DSN.
type Backend struct {
	// Driver is DriverSQLite or DriverPostgres.
	Driver string
	// DSN is, for SQLite, the database file path, empty for the default
	// location in the user data directory (the caller picks it, as this
	// package reads no environment); for PostgreSQL, the URL as written.
	DSN string
}

// Backend parses s.DSN: empty selects SQLite at the default location,
// "postgres://…" and "postgresql://…" select PostgreSQL, "sqlite:PATH",
// "file:PATH" and any other string without a URL scheme select SQLite at
// that path. internal/store/open.Parse uses this parser, so a DSN that
// validates here opens there.
func (s Store) Backend() (Backend, error) {
	dsn := s.DSN
	switch {
	case dsn == "":
		return Backend{Driver: DriverSQLite}, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			// url.Error quotes the whole URL, password included; say what
			// is wrong without echoing it.
			return Backend{}, fmt.Errorf("invalid PostgreSQL URL: %w", redactURLError(err))
		}
		return Backend{Driver: DriverPostgres, DSN: dsn}, nil
	case strings.HasPrefix(dsn, "sqlite:"), strings.HasPrefix(dsn, "file:"):
		_, p, _ := strings.Cut(dsn, ":")
		p = strings.TrimPrefix(p, "//") // sqlite:///var/lib/x.db → /var/lib/x.db
		if p == "" {
			return Backend{}, fmt.Errorf("%s names no database file (want sqlite:PATH)", quote(dsn))
		}
		if strings.ContainsAny(p, "?#") {
			return Backend{}, fmt.Errorf("query parameters are not supported in %s; give a plain path to use ? or # in a file name", quote(dsn))
		}
		return Backend{Driver: DriverSQLite, DSN: p}, nil
	}
	if scheme, ok := urlScheme(dsn); ok {
		return Backend{}, fmt.Errorf("unsupported scheme %s (want postgres://, postgresql://, sqlite:PATH or a file path)", quote(scheme))
	}
	if first, _, _ := strings.Cut(dsn, " "); strings.Contains(first, "=") {
		return Backend{}, fmt.Errorf("looks like a PostgreSQL key=value connection string; write it as a postgres:// URL")
	}
	return Backend{Driver: DriverSQLite, DSN: dsn}, nil
}

// urlScheme returns the scheme of a "scheme://…" string (RFC 3986: a letter,
// then letters, digits, '+', '-' or '.').
func urlScheme(s string) (string, bool) {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok || scheme == "" {
		return "", false
	}
	for i, r := range scheme {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return "", false
		}
	}
	return scheme, true
}

// redactURLError drops the URL (and any password in it) from a url.Parse
// error, keeping the reason.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Redacted returns the DSN with any password replaced by "xxxxx", for logs
// and `palisade config show`.
func (s Store) Redacted() string {
	if b, err := s.Backend(); err == nil && b.Driver == DriverPostgres {
		if u, err := url.Parse(b.DSN); err == nil {
			return u.Redacted()
		}
	}
	if strings.Contains(s.DSN, "://") {
		return "REDACTED" // unparseable URL; it may hold a password
	}
	return s.DSN
}

// LogValue logs the store without its password.
func (s Store) LogValue() slog.Value { return slog.StringValue(s.Redacted()) }

// resolve makes a relative SQLite path relative to dir (the directory of
// the configuration file) rather than to the working directory.
func (s *Store) resolve(dir string) {
	b, err := s.Backend()
	if err != nil || b.Driver != DriverSQLite || b.DSN == "" {
		return
	}
	p := b.DSN
	if p == ":memory:" || filepath.IsAbs(p) {
		return
	}
	p = filepath.Join(dir, p)
	if scheme, _, ok := strings.Cut(s.DSN, ":"); ok && (scheme == "sqlite" || scheme == "file") {
		p = scheme + ":" + p
	}
	s.DSN = p
}
