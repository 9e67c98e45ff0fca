package sqlite

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

func loadMigrations() ([]store.Migration, error) {
	ms, err := store.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("load sqlite migrations: %w", err)
	}
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)`

// Migrate applies the migrations the database lacks, each in its own
// IMMEDIATE transaction that re-reads the version first, so that processes
// opening the same file at once apply each migration exactly once.
func (s *Store) Migrate(ctx context.Context) error {
	if err := retryBusy(ctx, func() error { return s.createMigrationsTable(ctx) }); err != nil {
		return fmt.Errorf("migrate sqlite store: create schema_migrations: %w", err)
	}
	for {
		var done bool
		err := retryBusy(ctx, func() (err error) {
			done, err = s.migrateStep(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate sqlite store: %w", err)
		}
		if done {
			return nil
		}
	}
}

// createMigrationsTable runs in an IMMEDIATE transaction: taking the write
// lock up front lets SQLite's busy handler wait for other processes, where
// an autocommit statement that upgrades a read lock is refused at once to
// avoid a deadlock.
func (s *Store) createMigrationsTable(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return err
	}
	return tx.Commit()
}

// retryBusy retries f while SQLite reports the database locked. Opening a
// new file from several processes at once can meet locks the busy handler
// does not wait for: the switch to WAL mode, and lock upgrades it refuses
// to avoid deadlocks.
func retryBusy(ctx context.Context, f func() error) error {
	var err error
	for attempt := range 50 {
		if err = f(); err == nil || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
	return err
}

func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

// migrateStep applies the next missing migration and reports whether none
// was missing.
func (s *Store) migrateStep(ctx context.Context) (done bool, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var cur int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if err := store.CheckSchemaVersion(cur, len(s.migrations)); err != nil {
		return false, err
	}
	if cur == len(s.migrations) {
		return true, nil
	}
	m := s.migrations[cur]
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("apply migration %d (%s): %w", m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", m.Version, m.Name); err != nil {
		return false, fmt.Errorf("record migration %d (%s): %w", m.Version, m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit migration %d (%s): %w", m.Version, m.Name, err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "applied migration", slog.Int("version", m.Version), slog.String("name", m.Name))
	return false, nil
}

// SchemaVersion returns the version of the newest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("read sqlite schema version: %w", err)
	}
	return v, nil
}
