// Package vulndb is Palisade's vulnerability database: it imports OSV
// bundles (osv.dev's per-ecosystem all.zip) into a SQLite index, replacing
// the database file atomically, and matches packages against it with each
// ecosystem's own version order (package version), scoring severities from
// CVSS vectors (package cvss) and merging aliases into one finding per
// vulnerability per package.
package vulndb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"time"

	// The driver registers itself as "sqlite" with database/sql.
	_ "modernc.org/sqlite"
)

// SchemaVersion is the version of the database layout. A database with
// another version must be re-imported.
const SchemaVersion = 1

// ErrNoDatabase is returned (wrapped) by Open when there is no database
// file: run `palisade db import` or `palisade db update`.
var ErrNoDatabase = errors.New("no vulnerability database")

// schema is the database layout. affected's primary key (ecosystem, name,
// advisory) is the lookup index: a match reads only the rows of one package.
// Each affected row carries that package's affected entries of the
// advisory (JSON, without ecosystem_specific), so matching decodes a few
// hundred bytes per advisory and loads a whole document only for a hit.
const schema = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE advisories (
	id        TEXT PRIMARY KEY,
	modified  TEXT NOT NULL,
	doc       BLOB NOT NULL
);
CREATE TABLE affected (
	ecosystem TEXT NOT NULL,
	name      TEXT NOT NULL,
	advisory  TEXT NOT NULL,
	base      TEXT NOT NULL,
	entries   BLOB NOT NULL,
	PRIMARY KEY (ecosystem, name, advisory)
);
CREATE TABLE ecosystems (
	name       TEXT PRIMARY KEY,
	advisories INTEGER NOT NULL,
	newest     TEXT NOT NULL,
	source     TEXT NOT NULL,
	imported   TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE skipped (bundle TEXT NOT NULL, entry TEXT NOT NULL, error TEXT NOT NULL);
`

// DB is an open advisory database, read-only. It is safe for concurrent use.
type DB struct {
	path string
	db   *sql.DB
	log  *slog.Logger
}

// Open opens the database at path read-only. A nil logger discards logs.
func Open(ctx context.Context, path string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open vulnerability database %s: %w (run 'palisade db import' or 'palisade db update')", path, ErrNoDatabase)
		}
		return nil, fmt.Errorf("open vulnerability database %s: %w", path, err)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	// Imports never write to a database file in place: they rename a new
	// file over it, and open readers keep the old one. So the file is
	// immutable, and SQLite can skip locking on every query.
	q.Set("immutable", "1")
	q.Add("_pragma", "query_only(1)")
	q.Add("_pragma", "busy_timeout(5000)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open vulnerability database %s: %w", path, err)
	}
	d := &DB{path: path, db: db, log: logger.With("component", "vulndb")}
	var v string
	if err := db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v); err != nil {
		db.Close()
		return nil, fmt.Errorf("open vulnerability database %s: not a Palisade advisory database: %w", path, err)
	}
	if v != strconv.Itoa(SchemaVersion) {
		db.Close()
		return nil, fmt.Errorf("open vulnerability database %s: schema version %s, want %d: re-import it", path, v, SchemaVersion)
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Path returns the database file.
func (d *DB) Path() string { return d.path }

// Status describes a database: when it was imported and what it holds.
type Status struct {
	Path       string            `json:"path"`
	ImportedAt time.Time         `json:"importedAt"`
	Ecosystems []EcosystemStatus `json:"ecosystems"`
	// Skipped counts the bundle entries the imports left out as malformed.
	Skipped int `json:"skipped"`
}

// Age is how long ago the database was imported, the figure a scan
// compares with its maximum database age.
func (s *Status) Age(now time.Time) time.Duration { return now.Sub(s.ImportedAt) }

// EcosystemStatus is what the database holds for one ecosystem (the OSV
// name without release: "Debian", "Alpine", "Go", …).
type EcosystemStatus struct {
	Name       string    `json:"name"`
	Advisories int       `json:"advisories"`
	Newest     time.Time `json:"newest,omitzero"` // newest advisory modification (or publication) time
	Source     string    `json:"source"`          // the bundle it came from
	ImportedAt time.Time `json:"importedAt"`
}

// Status reads the database's meta data.
func (d *DB) Status(ctx context.Context) (*Status, error) {
	s := &Status{Path: d.path}
	var imported string
	if err := d.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'imported_at'`).Scan(&imported); err != nil {
		return nil, fmt.Errorf("read status of %s: %w", d.path, err)
	}
	s.ImportedAt, _ = time.Parse(time.RFC3339Nano, imported)
	rows, err := d.db.QueryContext(ctx, `SELECT name, advisories, newest, source, imported FROM ecosystems ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read status of %s: %w", d.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e EcosystemStatus
		var newest, imp string
		if err := rows.Scan(&e.Name, &e.Advisories, &newest, &e.Source, &imp); err != nil {
			return nil, fmt.Errorf("read status of %s: %w", d.path, err)
		}
		e.Newest, _ = time.Parse(time.RFC3339Nano, newest)
		e.ImportedAt, _ = time.Parse(time.RFC3339Nano, imp)
		s.Ecosystems = append(s.Ecosystems, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read status of %s: %w", d.path, err)
	}
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM skipped`).Scan(&s.Skipped); err != nil {
		return nil, fmt.Errorf("read status of %s: %w", d.path, err)
	}
	return s, nil
}
