// Package sqlite implements store.Store on one SQLite file, with the pure-Go
// modernc.org/sqlite driver (no cgo). It is Palisade's embedded default.
//
// The database runs in WAL mode, so readers never block the writer. All
// writes go through a single connection: goroutines that write at once queue
// for it inside the process instead of failing with SQLITE_BUSY, and write
// transactions begin IMMEDIATE so that they take the write lock up front.
// busy_timeout covers the remaining case of another process (a CLI next to a
// server) writing the same file. Reads use a separate pool of read-only
// connections.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/palisade-sec/palisade/internal/store"

	// The driver registers itself as "sqlite" with database/sql.
	_ "modernc.org/sqlite"
)

// busyTimeout is how long a connection waits for another process's lock
// before giving up with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Store is a store.Store backed by an SQLite file. It is safe for concurrent
// use by multiple goroutines.
type Store struct {
	path       string
	w          *sql.DB // exactly one connection; every write goes through it
	r          *sql.DB // read-only connections
	log        *slog.Logger
	migrations []store.Migration

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating it if needed) the SQLite database at path and
// migrates it. A missing directory is created with mode 0700 and a missing
// file with mode 0600: the database holds findings and audit events that are
// nobody else's business. A nil logger discards logs.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if path == "" {
		return nil, fmt.Errorf("open sqlite store: empty path: %w", store.ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("create directory for sqlite store %s: %w", abs, err)
	}
	// Create the file ourselves so that its mode is ours and not the
	// driver's default (0644); SQLite gives the -wal and -shm files the
	// mode of the database file.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create sqlite store %s: %w", abs, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("create sqlite store %s: %w", abs, err)
	}

	s := &Store{path: abs, log: logger.With("component", "store", "driver", "sqlite"), migrations: ms}
	s.w, err = sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", abs, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	// The writer connection switches the file to WAL before any reader
	// opens it, and migrates it.
	if err := s.Migrate(ctx); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", abs, err)
	}
	s.r, err = sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", abs, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", abs, err)
	}
	return s, nil
}

// dsn builds the driver's connection string: a file: URI (so that any byte
// of the path survives, percent-encoded) and the pragmas every connection
// needs. synchronous=FULL makes a commit durable on power loss too: an audit
// event is acknowledged only once it is on disk.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Ping reports whether the database file can still be read.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite store: %w", err)
	}
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1 FROM schema_migrations LIMIT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping sqlite store: %w", err)
	}
	return nil
}

// Close closes the database; the writer's close checkpoints the WAL into
// the main file. Calling Close again returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.r != nil {
			errs = append(errs, s.r.Close())
		}
		errs = append(errs, s.w.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close sqlite store %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// micros converts a time to the stored form, Unix microseconds.
func micros(t time.Time) int64 { return store.Truncate(t).UnixMicro() }

// fromMicros is the inverse of micros.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nonNil returns b, or an empty slice for nil, for NOT NULL blob columns.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nilIfEmpty returns nil for an empty blob, so that both implementations
// return the same value for "no payload".
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// noLimit turns "0 means no limit" into SQLite's "negative means no limit".
func noLimit(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

var _ store.Store = (*Store)(nil)
