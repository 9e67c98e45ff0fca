package postgres

import (
	"context"
	"embed"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/palisade-sec/palisade/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

func loadMigrations() ([]store.Migration, error) {
	ms, err := store.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("load postgres migrations: %w", err)
	}
	return ms, nil
}

// migrationLock is the advisory lock key that serialises migrations between
// replicas ("palisade" in ASCII). Advisory locks are per database, so
// unrelated databases on one server do not contend.
const migrationLock int64 = 0x70616c6973616465

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer     NOT NULL PRIMARY KEY,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// Migrate applies the migrations the database lacks, each in its own
// transaction, holding an advisory lock so that replicas starting together
// apply each migration once: the others wait, then find nothing to do.
func (s *Store) Migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate postgres store: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("migrate postgres store: take migration lock: %w", err)
	}
	defer func() {
		// Unlock even when ctx is done. A session lock that failed to
		// unlock must not go back to the pool with the connection.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if _, err := conn.Exec(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("migrate postgres store: create schema_migrations: %w", err)
	}
	for {
		done, err := s.migrateStep(ctx, conn)
		if err != nil {
			return fmt.Errorf("migrate postgres store: %w", err)
		}
		if done {
			return nil
		}
	}
}

// migrateStep applies the next missing migration and reports whether none
// was missing.
func (s *Store) migrateStep(ctx context.Context, conn *pgxpool.Conn) (done bool, err error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var cur int
	if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if err := store.CheckSchemaVersion(cur, len(s.migrations)); err != nil {
		return false, err
	}
	if cur == len(s.migrations) {
		return true, nil
	}
	m := s.migrations[cur]
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("apply migration %d (%s): %w", m.Version, m.Name, err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
		return false, fmt.Errorf("record migration %d (%s): %w", m.Version, m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("commit migration %d (%s): %w", m.Version, m.Name, err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "applied migration", slog.Int("version", m.Version), slog.String("name", m.Name))
	return false, nil
}

// SchemaVersion returns the version of the newest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.pool.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("read postgres schema version: %w", err)
	}
	return v, nil
}
