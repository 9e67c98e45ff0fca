package vulndb

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/sharedtest"
)

// sharedBundles are the real osv.dev-format bundles of ../shared/vulndb.
var sharedBundles = []string{"Alpine-all.zip", "Debian-all.zip", "Go-all.zip", "PyPI-all.zip"}

func bundleDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("PALISADE_VULNDB_BUNDLES")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "vulndb")
	}
	if _, err := os.Stat(filepath.Join(dir, "Go-all.zip")); err != nil {
		sharedtest.Missing(t, "real advisory bundles not found in %s (set PALISADE_VULNDB_BUNDLES): %v", dir, err)
	}
	return dir
}

func bundlePaths(t testing.TB, names ...string) []string {
	dir := bundleDir(t)
	var out []string
	for _, n := range names {
		out = append(out, filepath.Join(dir, n))
	}
	return out
}

// realDB imports all real bundles once per test binary; the tests that
// only read share it.
var realDB = struct {
	once sync.Once
	path string
	took time.Duration
	err  error
	dir  string
}{}

func openRealDB(t *testing.T) *DB {
	t.Helper()
	paths := bundlePaths(t, sharedBundles...)
	realDB.once.Do(func() {
		realDB.dir, realDB.err = os.MkdirTemp("", "vulndb-test-*")
		if realDB.err != nil {
			return
		}
		realDB.path = filepath.Join(realDB.dir, "osv.db")
		start := time.Now()
		_, realDB.err = Import(t.Context(), realDB.path, paths, ImportOptions{})
		realDB.took = time.Since(start)
		t.Logf("imported %d real bundles in %v", len(paths), realDB.took)
	})
	if realDB.err != nil {
		t.Fatalf("import real bundles: %v", realDB.err)
	}
	d, err := Open(t.Context(), realDB.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestMain(m *testing.M) {
	code := m.Run()
	if realDB.dir != "" {
		os.RemoveAll(realDB.dir)
	}
	os.Exit(code)
}
