package vulndb

import (
	"archive/zip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeBundle writes a zip of name → document to dir/file.
func writeBundle(t *testing.T, dir, file string, docs map[string]string) string {
	t.Helper()
	path := filepath.Join(dir, file)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, doc := range docs {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

const goDoc = `{"id":"GO-2099-0001","modified":"2024-01-02T00:00:00Z","aliases":["CVE-2099-0001"],"summary":"test",
"affected":[{"package":{"ecosystem":"Go","name":"example.com/m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]}]}`

const pypiDoc = `{"id":"PYSEC-2099-1","modified":"2024-03-04T00:00:00Z",
"affected":[{"package":{"ecosystem":"PyPI","name":"Foo_Bar"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}]}]}`

func status(t *testing.T, path string) map[string]int {
	t.Helper()
	d, err := Open(t.Context(), path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer d.Close()
	s, err := d.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range s.Ecosystems {
		out[e.Name] = e.Advisories
	}
	out["skipped"] = s.Skipped
	return out
}

func TestImportStatusAndCarryOver(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cache", "osv.db")
	goZip := writeBundle(t, dir, "Go-all.zip", map[string]string{"GO-2099-0001.json": goDoc})
	pyZip := writeBundle(t, dir, "PyPI-all.zip", map[string]string{"PYSEC-2099-1.json": pypiDoc})
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if _, err := Import(t.Context(), db, []string{goZip}, ImportOptions{Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	d, err := Open(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.Status(t.Context())
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s.Age(now.Add(time.Hour)) != time.Hour {
		t.Errorf("Age = %v, want 1h", s.Age(now.Add(time.Hour)))
	}
	if !s.ImportedAt.Equal(now) || len(s.Ecosystems) != 1 || s.Ecosystems[0].Name != "Go" ||
		!s.Ecosystems[0].Newest.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) || s.Ecosystems[0].Source != "Go-all.zip" {
		t.Errorf("status = %+v", s)
	}
	// Importing PyPI alone keeps Go.
	res, err := Import(t.Context(), db, []string{pyZip}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := status(t, db); got["Go"] != 1 || got["PyPI"] != 1 {
		t.Errorf("after PyPI import: %v, want Go carried over", got)
	}
	if len(res.Carried) != 1 || res.Carried[0] != "Go" {
		t.Errorf("Carried = %v", res.Carried)
	}
	d, err = Open(t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := d.Match(t.Context(), []Query{{Ecosystem: "Go", Name: "example.com/m", Version: "v1.1.0"}, {Ecosystem: "PyPI", Name: "foo.bar", Version: "1.0"}})
	d.Close()
	if err != nil || len(ms) != 2 {
		t.Fatalf("Match after carry-over = %v, %v; want both", ms, err)
	}
	// Replace drops what the import does not contain.
	if _, err := Import(t.Context(), db, []string{pyZip}, ImportOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if got := status(t, db); got["Go"] != 0 || got["PyPI"] != 1 {
		t.Errorf("after --replace: %v", got)
	}
}

func TestImportMalformedEntries(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "osv.db")
	bundle := writeBundle(t, dir, "Go-all.zip", map[string]string{
		"GO-2099-0001.json": goDoc,
		"BAD-1.json":        `{"id":`,
		"BAD-2.json":        `{"id":"X","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[{}]}]}]}`,
		"README.txt":        "not an advisory",
	})
	res, err := Import(t.Context(), db, []string{bundle}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	br := res.Bundles[0]
	if br.Advisories != 1 || len(br.Skipped) != 2 {
		t.Fatalf("bundle result = %+v, want 1 advisory, 2 skipped", br)
	}
	for _, e := range br.Skipped {
		if e.Bundle != bundle || !strings.HasPrefix(e.Entry, "BAD-") || !strings.Contains(e.Error(), e.Entry) {
			t.Errorf("skipped entry %+v does not name bundle and entry", e)
		}
	}
	if got := status(t, db); got["skipped"] != 2 || got["Go"] != 1 {
		t.Errorf("status = %v", got)
	}
	// Strict fails and keeps the previous database.
	before, _ := os.ReadFile(db)
	_, err = Import(t.Context(), db, []string{bundle}, ImportOptions{Strict: true})
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "BAD-") {
		t.Fatalf("strict import error = %v, want ErrBadInput naming the entry", err)
	}
	after, _ := os.ReadFile(db)
	if string(before) != string(after) {
		t.Error("failed strict import changed the database")
	}
	assertNoTemp(t, dir)
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".osv-") || strings.HasPrefix(e.Name(), ".download-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestImportFailureKeepsOldDB: a missing file, a non-zip, a truncated zip
// and a cancelled import all fail with the previous database intact.
func TestImportFailureKeepsOldDB(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "osv.db")
	good := writeBundle(t, dir, "Go-all.zip", map[string]string{"GO-2099-0001.json": goDoc})
	if _, err := Import(t.Context(), db, []string{good}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	notZip := filepath.Join(dir, "not.zip")
	os.WriteFile(notZip, []byte("hello"), 0o644)
	data, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "truncated.zip")
	os.WriteFile(truncated, data[:len(data)/2], 0o644)
	// A stored (uncompressed) entry with one byte flipped: the CRC check fails.
	corrupt := filepath.Join(dir, "corrupt.zip")
	{
		f, _ := os.Create(corrupt)
		zw := zip.NewWriter(f)
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "GO-2099-0001.json", Method: zip.Store})
		w.Write([]byte(goDoc))
		zw.Close()
		f.Close()
		b, _ := os.ReadFile(corrupt)
		i := strings.Index(string(b), "example.com")
		b[i] = 'X'
		os.WriteFile(corrupt, b, 0o644)
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		bundles []string
		badIn   bool
	}{
		{"missing", t.Context(), []string{filepath.Join(dir, "nope.zip")}, true},
		{"directory", t.Context(), []string{dir}, true},
		{"not a zip", t.Context(), []string{good, notZip}, true},
		{"truncated", t.Context(), []string{truncated}, true},
		{"bad checksum", t.Context(), []string{corrupt}, true},
		{"cancelled", cancelled, []string{good}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Import(tt.ctx, db, tt.bundles, ImportOptions{Replace: true})
			if err == nil {
				t.Fatal("import succeeded")
			}
			if errors.Is(err, ErrBadInput) != tt.badIn {
				t.Errorf("error %v: errors.Is(ErrBadInput) = %v, want %v", err, !tt.badIn, tt.badIn)
			}
			if got := status(t, db); got["Go"] != 1 {
				t.Errorf("old database damaged: %v", got)
			}
			assertNoTemp(t, dir)
		})
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := Open(t.Context(), filepath.Join(t.TempDir(), "osv.db"), nil)
	if !errors.Is(err, ErrNoDatabase) {
		t.Errorf("Open(missing) = %v, want ErrNoDatabase", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(junk, []byte("not sqlite"), 0o644)
	if _, err := Open(t.Context(), junk, nil); err == nil {
		t.Error("Open(junk) succeeded")
	}
}
