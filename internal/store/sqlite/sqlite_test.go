package sqlite_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
	"github.com/palisade-sec/palisade/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	dir := t.TempDir()
	storetest.Run(t, func(t *testing.T) store.Store {
		// The same test gets the same file, so that the suite can reopen it.
		sum := sha256.Sum256([]byte(t.Name()))
		path := filepath.Join(dir, hex.EncodeToString(sum[:8]), "palisade.db")
		s, err := sqlite.Open(t.Context(), path, nil)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func openT(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "palisade")
	path := filepath.Join(dir, "palisade.db")
	s := openT(t, path)
	// Write something so that the WAL file exists.
	if _, err := s.AppendAuditEvents(t.Context(), []store.AuditEvent{{AuditID: "a", Cluster: "c"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		mode os.FileMode
	}{
		{dir, 0o700 | os.ModeDir},
		{path, 0o600},
		{path + "-wal", 0o600},
	} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != tc.mode {
			t.Errorf("%s: mode %v, want %v", tc.path, fi.Mode(), tc.mode)
		}
	}
	var mode string
	if err := rawDB(t, path).QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

func TestPathWithURIMetacharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?x=1#frag%20ü")
	path := filepath.Join(dir, "my db?.db")
	s := openT(t, path)
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not created at the exact path: %v", err)
	}
}

// rawDB opens path with database/sql directly, for tests that tamper with
// the file behind the store's back.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "palisade.db")
	s := openT(t, path)
	known, err := s.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rawDB(t, path).Exec("INSERT INTO schema_migrations (version, name) VALUES (?, 'from_the_future')", known+1); err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(t.Context(), path, nil)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: error = %v, want ErrSchemaTooNew", err)
	}
	t.Logf("error reads: %v", err)
}

// TestConcurrentOpen opens one new file from many goroutines at once, as
// several processes starting together would: each migration must be
// applied exactly once and no opener may fail.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "palisade.db")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			s, err := sqlite.Open(t.Context(), path, nil)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var rows, maxV int
	if err := rawDB(t, path).QueryRow("SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&rows, &maxV); err != nil {
		t.Fatal(err)
	}
	if rows != maxV {
		t.Errorf("schema_migrations has %d rows for %d versions", rows, maxV)
	}
}

// TestTwoStoresOneFile writes through two Stores on one file at once, as a
// CLI and a server sharing a database would: busy_timeout and IMMEDIATE
// transactions must keep SQLITE_BUSY away.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "palisade.db")
	stores := []*sqlite.Store{openT(t, path), openT(t, path)}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		s := stores[i%2]
		wg.Go(func() {
			for b := range 25 {
				var batch []store.AuditEvent
				for k := range 4 {
					batch = append(batch, store.AuditEvent{AuditID: fmt.Sprintf("%d-%d-%d", i, b, k), Cluster: "c"})
				}
				if _, err := s.AppendAuditEvents(t.Context(), batch); err != nil {
					errs[i] = err
					return
				}
				scope := fmt.Sprintf("scope-%d", i)
				f := finding.Finding{RuleID: "r", Resource: finding.Resource{Name: fmt.Sprint(b)}}
				if _, err := s.ReplaceFindings(t.Context(), scope, storeTime(b), []finding.Finding{f}); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	got, err := stores[0].QueryAuditEvents(t.Context(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 8*25*4 {
		t.Errorf("stored %d events, want %d", len(got), 8*25*4)
	}
}

func storeTime(minute int) time.Time {
	return time.Date(2025, 1, 1, 0, minute, 0, 0, time.UTC)
}
