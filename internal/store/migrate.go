package store

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
)

// Migration is one step of a schema's history. Each implementation keeps its
// own list (the SQL dialects differ) as files NNNN_name.sql in an embedded
// directory, records applied versions in a schema_migrations table and
// applies each missing migration once, in its own transaction.
//
// A released migration is never edited: a schema change adds a file.
type Migration struct {
	Version int    // 1, 2, 3, … without gaps
	Name    string // "init"
	SQL     string
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// LoadMigrations reads the migrations in dir of fsys. Every file there must
// be named NNNN_name.sql and the versions must run 1, 2, 3, … without gaps.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations directory %s: %w", dir, err)
	}
	var ms []Migration
	for _, e := range entries { // ReadDir sorts by name, so by version
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			return nil, fmt.Errorf("migration %s: want a file named NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if v != len(ms)+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d (versions run 1, 2, 3, … without gaps)", e.Name(), v, len(ms)+1)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: m[2], SQL: string(b)})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("read migrations directory %s: no migrations", dir)
	}
	return ms, nil
}

// CheckSchemaVersion returns an error wrapping ErrSchemaTooNew when a
// database at version current is ahead of the known migrations.
func CheckSchemaVersion(current, known int) error {
	if current > known {
		return fmt.Errorf("database schema version %d, this binary knows up to %d: upgrade palisade or use another database: %w",
			current, known, ErrSchemaTooNew)
	}
	return nil
}
