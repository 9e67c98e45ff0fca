package vulndb

import (
	"archive/zip"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/vulndb/osv"
)

// MaxDocumentSize bounds one OSV document in a bundle; a larger entry is
// treated as malformed rather than read into memory.
const MaxDocumentSize = 8 << 20

// ErrBadInput is returned (wrapped) when a bundle is missing, unreadable,
// not a zip archive or corrupt, or (with Strict) holds a malformed
// document: the user's input is at fault, not Palisade.
var ErrBadInput = errors.New("bad advisory bundle")

// ImportOptions tunes Import.
type ImportOptions struct {
	// Strict fails the whole import on the first malformed document. By
	// default a malformed document is skipped, counted, named in the result
	// and recorded in the database, and the import goes on: one bad entry
	// upstream must not leave every user without fresh advisories. Either
	// way a failed import leaves the previous database in place.
	Strict bool
	// Replace drops every ecosystem the bundles do not contain. By default
	// ecosystems absent from this import are carried over from the current
	// database, so importing the Go bundle alone does not lose Debian.
	Replace bool
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// ImportResult reports what an import did.
type ImportResult struct {
	Path     string         `json:"path"`
	Bundles  []BundleResult `json:"bundles"`
	Carried  []string       `json:"carried,omitempty"` // ecosystems kept from the previous database
	Duration time.Duration  `json:"duration"`
}

// BundleResult reports one imported bundle.
type BundleResult struct {
	Path       string         `json:"path"`
	Advisories int            `json:"advisories"`
	Withdrawn  int            `json:"withdrawn"`
	Ecosystems map[string]int `json:"ecosystems"`
	Skipped    []EntryError   `json:"skipped,omitempty"`
}

// EntryError names a malformed entry of a bundle.
type EntryError struct {
	Bundle string `json:"bundle"`
	Entry  string `json:"entry"`
	Err    string `json:"error"`
}

// Error names the bundle, the entry and what is wrong with it.
func (e EntryError) Error() string {
	return fmt.Sprintf("bundle %s entry %s: %s", e.Bundle, e.Entry, e.Err)
}

// ecoStats accumulates, per base ecosystem, what ends up in the ecosystems
// table.
type ecoStats struct {
	advisories int
	newest     time.Time
	source     string
}

// Import builds a new database from the bundles and atomically replaces
// the one at dbPath: it writes a temporary file in the same directory and
// renames it over dbPath only once everything succeeded, so that readers
// always see a complete database and a failed or interrupted import leaves
// the previous one working. Bundles are streamed entry by entry; no bundle
// is held in memory.
func Import(ctx context.Context, dbPath string, bundles []string, opts ImportOptions) (*ImportResult, error) {
	start := time.Now()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	log := opts.Logger.With("component", "vulndb")
	if len(bundles) == 0 {
		return nil, fmt.Errorf("import: %w: no bundle given", ErrBadInput)
	}
	for _, b := range bundles {
		if fi, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("import bundle %s: %w: %w", b, ErrBadInput, err)
		} else if fi.IsDir() {
			return nil, fmt.Errorf("import bundle %s: %w: is a directory", b, ErrBadInput)
		}
	}
	dir := filepath.Dir(dbPath)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create database directory %s: %w", dir, err)
	}
	removeStaleTemps(dir, log)
	tmp, err := os.CreateTemp(dir, ".osv-*.db.tmp")
	if err != nil {
		return nil, fmt.Errorf("create temporary database in %s: %w", dir, err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmpPath)
			os.Remove(tmpPath + "-journal")
		}
	}()

	res := &ImportResult{Path: dbPath}
	if err := build(ctx, tmpPath, dbPath, bundles, opts, log, res); err != nil {
		return nil, err
	}
	if err := syncFile(tmpPath); err != nil {
		return nil, err
	}
	if err := os.Rename(tmpPath, dbPath); err != nil {
		return nil, fmt.Errorf("replace database %s: %w", dbPath, err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename durable; best effort on systems without directory fsync
		d.Close()
	}
	res.Duration = time.Since(start)
	log.Info("advisory database imported", "path", dbPath, "bundles", len(bundles), "duration", res.Duration)
	return res, nil
}

// staleAfter is how old a temporary database must be before an import
// treats it as left behind by a killed import and removes it.
const staleAfter = 24 * time.Hour

// removeStaleTemps deletes temporary databases of imports that were killed
// before they could clean up; recent ones may belong to a running import.
func removeStaleTemps(dir string, log *slog.Logger) {
	matches, _ := filepath.Glob(filepath.Join(dir, ".osv-*.db.tmp"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && time.Since(fi.ModTime()) > staleAfter {
			if err := os.Remove(m); err == nil {
				log.Info("removed a temporary database left by an interrupted import", "path", m)
			}
		}
	}
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sync database %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync database %s: %w", path, err)
	}
	return nil
}

// build writes the complete database into tmpPath.
func build(ctx context.Context, tmpPath, oldPath string, bundles []string, opts ImportOptions, log *slog.Logger, res *ImportResult) error {
	q := url.Values{}
	// The file is private until renamed: no journal, no fsync per commit
	// (Import fsyncs the finished file once).
	q.Add("_pragma", "journal_mode(OFF)")
	q.Add("_pragma", "synchronous(OFF)")
	q.Add("_pragma", "locking_mode(EXCLUSIVE)")
	q.Add("_pragma", "cache_size(-65536)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: tmpPath}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("create database %s: %w", tmpPath, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("create database %s: %w", tmpPath, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create database schema: %w", err)
	}
	// ATTACH is not allowed inside a transaction: attach the database being
	// replaced first, to carry over what this import does not contain.
	attached := false
	if _, err := os.Stat(oldPath); err == nil && !opts.Replace {
		if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS old`, "file:"+(&url.URL{Path: oldPath}).EscapedPath()+"?mode=ro"); err != nil {
			log.Warn("cannot read the previous database; nothing carried over", "path", oldPath, "error", err)
		} else {
			attached = true
			defer conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE old`)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin import: %w", err)
	}
	defer tx.Rollback()
	w, err := newWriter(ctx, tx)
	if err != nil {
		return err
	}
	defer w.close()
	stats := map[string]*ecoStats{}
	now := opts.Now().UTC()
	for _, b := range bundles {
		br, err := importBundle(ctx, w, b, opts, stats, log)
		if err != nil {
			return err
		}
		res.Bundles = append(res.Bundles, *br)
	}
	for name, st := range stats {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ecosystems VALUES (?, ?, ?, ?, ?)`,
			name, st.advisories, st.newest.UTC().Format(time.RFC3339Nano), st.source, now.Format(time.RFC3339Nano)); err != nil {
			return fmt.Errorf("record ecosystem %s: %w", name, err)
		}
	}
	for _, kv := range [][2]string{{"schema_version", strconv.Itoa(SchemaVersion)}, {"imported_at", now.Format(time.RFC3339Nano)}} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta VALUES (?, ?)`, kv[0], kv[1]); err != nil {
			return fmt.Errorf("record meta %s: %w", kv[0], err)
		}
	}
	if attached {
		carried, err := carryOver(ctx, tx, oldPath, stats, log)
		if err != nil {
			return err
		}
		res.Carried = carried
	}
	w.close()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit import: %w", err)
	}
	return nil
}

// entry is one bundle entry, read and parsed.
type entry struct {
	name string
	data []byte
	v    *osv.Vulnerability
	err  error // the document is malformed
}

// importBundle streams one all.zip into the database. One goroutine reads,
// decompresses and parses entries while this one writes them, so the
// SQLite writes overlap the JSON work; at most a small window of entries
// is in memory.
func importBundle(ctx context.Context, w *writer, path string, opts ImportOptions, stats map[string]*ecoStats, log *slog.Logger) (*BundleResult, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("open bundle %s: %w: %w", path, ErrBadInput, err)
	}
	defer zr.Close()
	entries := make(chan entry, 32)
	readErr := make(chan error, 1)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	defer func() { cancel(); <-done }() // the reader must stop before zr closes
	go func() {
		defer close(done)
		defer close(entries)
		readErr <- readBundle(rctx, zr, path, entries)
	}()

	br := &BundleResult{Path: path, Ecosystems: map[string]int{}}
	source := filepath.Base(path)
	for e := range entries {
		if e.err != nil {
			ee := EntryError{Bundle: path, Entry: e.name, Err: e.err.Error()}
			if opts.Strict {
				return nil, fmt.Errorf("import %w: %w", ee, ErrBadInput)
			}
			log.Warn("skipping malformed advisory", "bundle", path, "entry", e.name, "error", e.err)
			br.Skipped = append(br.Skipped, ee)
			if _, err := w.skip.ExecContext(ctx, path, e.name, ee.Err); err != nil {
				return nil, fmt.Errorf("record skipped entry %s: %w", e.name, err)
			}
			continue
		}
		if !e.v.Withdrawn.IsZero() && e.v.Withdrawn.Year() > 1 {
			br.Withdrawn++ // withdrawn advisories never match; leave them out
			continue
		}
		if err := w.insert(ctx, e.v, e.data, source, stats, br); err != nil {
			return nil, fmt.Errorf("import bundle %s entry %s: %w", path, e.name, err)
		}
		br.Advisories++
	}
	if err := <-readErr; err != nil {
		return nil, err
	}
	return br, nil
}

// readBundle sends every JSON entry of zr, parsed, to out.
func readBundle(ctx context.Context, zr *zip.ReadCloser, path string, out chan<- entry) error {
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("import bundle %s: %w", path, err)
		}
		if f.FileInfo().IsDir() || !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		data, err := readEntry(f)
		if err != nil {
			// A read error (bad checksum, truncated data) means the archive
			// is corrupt: nothing in it can be trusted.
			return fmt.Errorf("read bundle %s entry %s: %w: %w", path, f.Name, ErrBadInput, err)
		}
		e := entry{name: f.Name, data: data}
		if len(data) > MaxDocumentSize {
			e.err = fmt.Errorf("document larger than %d bytes", MaxDocumentSize)
		} else {
			e.v, e.err = osv.Parse(data)
		}
		select {
		case out <- e:
		case <-ctx.Done():
			return fmt.Errorf("import bundle %s: %w", path, ctx.Err())
		}
	}
	return nil
}

func readEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, MaxDocumentSize+1))
}

// baseEcosystem strips the release: "Debian:12" → "Debian".
func baseEcosystem(e string) string {
	b, _, _ := strings.Cut(e, ":")
	return b
}
