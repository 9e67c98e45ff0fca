// Package postgres implements store.Store on PostgreSQL with pgx, for
// Palisade running as several replicas. Semantics are exactly those of
// store/sqlite; the conformance suite store/storetest holds both to them.
//
// Replicas starting together migrate the schema once: migrations run under a
// session advisory lock. Text columns that are compared or sorted use
// COLLATE "C", so that orderings are bytewise as in SQLite whatever the
// database's default collation.
package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/palisade-sec/palisade/internal/store"
)

// Store is a store.Store backed by a PostgreSQL database. It is safe for
// concurrent use by multiple goroutines and by multiple processes.
type Store struct {
	pool       *pgxpool.Pool
	log        *slog.Logger
	migrations []store.Migration
	target     string // host and database, for messages; never the password

	closeOnce sync.Once
}

// Open connects to the database dsn names ("postgres://user@host/db?…", or
// key=value form; pgxpool's pool_* parameters apply) and migrates it. A nil
// logger discards logs.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors redact the password.
		return nil, fmt.Errorf("open postgres store: parse DSN: %w", err)
	}
	target := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres store %s: %w", target, err)
	}
	s := &Store{pool: pool, log: logger.With("component", "store", "driver", "postgres"), migrations: ms, target: target}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store %s: %w", target, err)
	}
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store %s: %w", target, err)
	}
	return s, nil
}

// Ping reports whether the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres store %s: %w", s.target, err)
	}
	return nil
}

// Close closes the connection pool, waiting for connections in use to be
// returned. Calling it again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}

// ts converts a time to the form stored.
func ts(t time.Time) time.Time { return store.Truncate(t) }

// nonNil returns b, or an empty slice for nil: pgx sends a nil slice as
// NULL, which NOT NULL columns refuse.
func nonNil[T any](b []T) []T {
	if b == nil {
		return []T{}
	}
	return b
}

// nilIfEmpty returns nil for an empty slice, so that both implementations
// return the same value for "none".
func nilIfEmpty[T any](b []T) []T {
	if len(b) == 0 {
		return nil
	}
	return b
}

// limit turns "0 means no limit" into SQL: LIMIT NULL is no limit.
func limit(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// query builds a statement with numbered parameters.
type query struct {
	conds []string
	args  []any
}

// arg adds a parameter and returns its placeholder, "$n".
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// addIf adds condition cond when ok; the "?" in cond stands for arg.
func (q *query) addIf(ok bool, cond string, arg any) {
	if ok {
		q.conds = append(q.conds, strings.Replace(cond, "?", q.arg(arg), 1))
	}
}

// where returns the WHERE clause, with a leading space, or "".
func (q *query) where() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}

var _ store.Store = (*Store)(nil)
