package bench

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/sharedtest"

	"github.com/palisade-sec/palisade/internal/vulndb"
	"github.com/palisade-sec/palisade/internal/vulndb/osv"
)

// vulndbBundles returns the real bundles of ../shared/vulndb, or skips.
func vulndbBundles(b *testing.B) []string {
	dir := os.Getenv("PALISADE_VULNDB_BUNDLES")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "vulndb")
	}
	var out []string
	for _, n := range []string{"Alpine-all.zip", "Debian-all.zip", "Go-all.zip", "PyPI-all.zip"} {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err != nil {
			sharedtest.Missing(b, "real advisory bundles not found in %s (set PALISADE_VULNDB_BUNDLES): %v", dir, err)
		}
		out = append(out, p)
	}
	return out
}

// decodeAll is the baseline: read every entry of every bundle and decode
// its JSON into the OSV types, nothing else. It returns the document count.
func decodeAll(paths []string) (int, error) {
	n := 0
	for _, p := range paths {
		zr, err := zip.OpenReader(p)
		if err != nil {
			return 0, err
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				zr.Close()
				return 0, err
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				zr.Close()
				return 0, err
			}
			var v osv.Vulnerability
			if err := json.Unmarshal(data, &v); err != nil {
				zr.Close()
				return 0, fmt.Errorf("%s %s: %w", p, f.Name, err)
			}
			n++
		}
		zr.Close()
	}
	return n, nil
}

// BenchmarkVulnDBImport imports all real bundles and, in the same run,
// only reads and JSON-decodes the same entries; it reports the ratio
// import/decode (the cost of validating, indexing and writing SQLite on
// top of the unavoidable decompress+decode).
func BenchmarkVulnDBImport(b *testing.B) {
	paths := vulndbBundles(b)
	dir := b.TempDir()
	var importDur, decodeDur, importCPU, decodeCPU time.Duration
	docs := 0
	for i := 0; b.Loop(); i++ {
		start, cpu := time.Now(), cpuTime()
		n, err := decodeAll(paths)
		if err != nil {
			b.Fatal(err)
		}
		decodeDur += time.Since(start)
		decodeCPU += cpuTime() - cpu
		docs = n

		db := filepath.Join(dir, fmt.Sprintf("osv-%d.db", i))
		start, cpu = time.Now(), cpuTime()
		if _, err := vulndb.Import(b.Context(), db, paths, vulndb.ImportOptions{Replace: true}); err != nil {
			b.Fatal(err)
		}
		importDur += time.Since(start)
		importCPU += cpuTime() - cpu
		os.Remove(db)
	}
	ratio := float64(importDur) / float64(decodeDur)
	b.ReportMetric(ratio, "import/decode")
	// CPU time is steadier than wall time on a shared machine.
	b.ReportMetric(float64(importCPU)/float64(decodeCPU), "import/decode-cpu")
	b.ReportMetric(float64(importDur.Milliseconds())/float64(b.N), "import-ms/op")
	b.ReportMetric(float64(decodeDur.Milliseconds())/float64(b.N), "decode-ms/op")
	b.ReportMetric(float64(docs), "advisories")
	b.Logf("import of %d advisories: %v per run; read+decode only: %v; ratio %.2f (CPU time ratio %.2f)",
		docs, importDur/time.Duration(b.N), decodeDur/time.Duration(b.N), ratio, float64(importCPU)/float64(decodeCPU))
}

// BenchmarkVulnDBMatch matches a fixed set of real packages (Debian 12,
// Alpine 3.11, Go, PyPI) against a database of all real bundles; the
// metric is the time per package.
func BenchmarkVulnDBMatch(b *testing.B) {
	paths := vulndbBundles(b)
	dbPath := filepath.Join(b.TempDir(), "osv.db")
	if _, err := vulndb.Import(b.Context(), dbPath, paths, vulndb.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	d, err := vulndb.Open(b.Context(), dbPath, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	qs := []vulndb.Query{
		{Ecosystem: "Debian:12", Name: "libssl3", SourceName: "openssl", Version: "3.0.8-1"},
		{Ecosystem: "Debian:12", Name: "libc6", SourceName: "glibc", Version: "2.36-9+deb12u4"},
		{Ecosystem: "Debian:12", Name: "curl", Version: "7.88.1-10"},
		{Ecosystem: "Debian:12", Name: "bash", Version: "5.2.15-2+b2"},
		{Ecosystem: "Alpine:v3.11", Name: "libcrypto1.1", SourceName: "openssl", Version: "1.1.1d-r2"},
		{Ecosystem: "Alpine:v3.11", Name: "musl", Version: "1.1.24-r2"},
		{Ecosystem: "Alpine:v3.11", Name: "busybox", Version: "1.31.1-r9"},
		{Ecosystem: "Go", Name: "golang.org/x/text", Version: "v0.3.7"},
		{Ecosystem: "Go", Name: "golang.org/x/net", Version: "v0.0.0-20220722155237-a158d28d115b"},
		{Ecosystem: "Go", Name: "stdlib", Version: "1.21.3"},
		{Ecosystem: "Go", Name: "github.com/example/not-there", Version: "v1.0.0"},
		{Ecosystem: "PyPI", Name: "django", Version: "3.2.0"},
		{Ecosystem: "PyPI", Name: "requests", Version: "2.19.0"},
		{Ecosystem: "PyPI", Name: "pillow", Version: "8.0.0"},
	}
	matches := 0
	for b.Loop() {
		ms, err := d.Match(b.Context(), qs)
		if err != nil {
			b.Fatal(err)
		}
		matches = len(ms)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(qs)), "µs/package")
	b.ReportMetric(float64(matches), "matches")
}
