// Package open opens the store.Store a DSN names, SQLite or PostgreSQL. It is
// the one package that imports both implementations, so that package store
// itself stays free of drivers (and of import cycles).
package open

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/paths"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/postgres"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// Driver names an implementation.
type Driver string

// The drivers.
const (
	SQLite   Driver = "sqlite"
	Postgres Driver = "postgres"
)

// Target is what a DSN resolves to.
type Target struct {
	Driver Driver
	// Location is the database file for SQLite and the DSN itself for
	// PostgreSQL.
	Location string
}

// Open opens and migrates the store dsn names; see Parse for the forms.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (store.Store, error) {
	t, err := Parse(dsn)
	if err != nil {
		return nil, err
	}
	switch t.Driver {
	case Postgres:
		return postgres.Open(ctx, t.Location, logger)
	default:
		return sqlite.Open(ctx, t.Location, logger)
	}
}

// Parse resolves a DSN with the rules of config.Store.Backend (one parser,
// so a DSN that validates in palisade.yaml opens here):
//
//	""                                SQLite at paths.Store()
//	"postgres://…", "postgresql://…"  PostgreSQL (pgx connection URL)
//	"sqlite:PATH", "file:PATH"        SQLite at PATH ("sqlite:///abs/path" works too)
//	"PATH"                            SQLite at PATH
//
// Other URL schemes are an error rather than a file named after them, and so
// are query parameters on sqlite: and file: DSNs, which would otherwise end
// up in the file name.
func Parse(dsn string) (Target, error) {
	b, err := config.Store{DSN: dsn}.Backend()
	if err != nil {
		return Target{}, fmt.Errorf("store DSN: %w: %w", err, store.ErrInvalid)
	}
	switch {
	case b.Driver == config.DriverPostgres:
		return Target{Driver: Postgres, Location: b.DSN}, nil
	case b.DSN == "":
		return Target{Driver: SQLite, Location: paths.Store()}, nil
	}
	return Target{Driver: SQLite, Location: b.DSN}, nil
}
