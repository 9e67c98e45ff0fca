package open

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/pgtest"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/postgres"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		want Target
	}{
		{"postgres://u:p@db:5432/palisade?sslmode=disable", Target{Postgres, "postgres://u:p@db:5432/palisade?sslmode=disable"}},
		{"postgresql://db/palisade", Target{Postgres, "postgresql://db/palisade"}},
		{"sqlite:/var/lib/palisade.db", Target{SQLite, "/var/lib/palisade.db"}},
		{"sqlite:///var/lib/palisade.db", Target{SQLite, "/var/lib/palisade.db"}},
		{"sqlite:rel/palisade.db", Target{SQLite, "rel/palisade.db"}},
		{"file:/tmp/p.db", Target{SQLite, "/tmp/p.db"}},
		{"file:///tmp/p.db", Target{SQLite, "/tmp/p.db"}},
		{"/srv/palisade.db", Target{SQLite, "/srv/palisade.db"}},
		{"palisade.db", Target{SQLite, "palisade.db"}},
		{"./odd?name#.db", Target{SQLite, "./odd?name#.db"}},
		{`C:\data\palisade.db`, Target{SQLite, `C:\data\palisade.db`}},
	} {
		got, err := Parse(tc.dsn)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.dsn, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tc.dsn, diff)
		}
	}
	for _, dsn := range []string{"mysql://db/x", "http://x", "sqlite:", "file://", "sqlite:x.db?mode=ro", "file:x.db#frag"} {
		if _, err := Parse(dsn); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Parse(%q): error = %v, want ErrInvalid", dsn, err)
		}
	}
}

func TestOpenDispatch(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "xdg"))
	for _, tc := range []struct {
		dsn  string
		path string
	}{
		{"", filepath.Join(dir, "xdg", "palisade", "palisade.db")},
		{"sqlite:" + filepath.Join(dir, "a.db"), filepath.Join(dir, "a.db")},
		{"file:" + filepath.Join(dir, "b.db"), filepath.Join(dir, "b.db")},
		{filepath.Join(dir, "c", "c.db"), filepath.Join(dir, "c", "c.db")},
	} {
		s, err := Open(t.Context(), tc.dsn, nil)
		if err != nil {
			t.Errorf("Open(%q): %v", tc.dsn, err)
			continue
		}
		if sq, ok := s.(*sqlite.Store); !ok || sq.Path() != tc.path {
			t.Errorf("Open(%q) = %T at %v, want SQLite at %s", tc.dsn, s, pathOf(s), tc.path)
		}
		if _, err := os.Stat(tc.path); err != nil {
			t.Errorf("Open(%q): %v", tc.dsn, err)
		}
		s.Close()
	}

	if _, err := Open(t.Context(), "mysql://db/x", nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Open of an unsupported scheme: error = %v, want ErrInvalid", err)
	}

	dsn := pgtest.Start(t)
	s, err := Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatalf("Open(postgres): %v", err)
	}
	defer s.Close()
	if _, ok := s.(*postgres.Store); !ok {
		t.Errorf("Open(%q) = %T, want *postgres.Store", dsn, s)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func pathOf(s store.Store) string {
	if sq, ok := s.(*sqlite.Store); ok {
		return sq.Path()
	}
	return "-"
}
