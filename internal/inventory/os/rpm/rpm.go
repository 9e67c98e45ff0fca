// Package rpm extracts RPM packages from the SQLite rpmdb
// (/var/lib/rpm/rpmdb.sqlite, and /usr/lib/sysimage/rpm/rpmdb.sqlite on
// newer distributions), reading the header blobs of the Packages table.
// Berkeley DB (Packages) and NDB (Packages.db) databases are not read yet.
package rpm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/inventory"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Name is the extractor's name.
const Name = "os/rpm"

// Extractor reads the SQLite rpmdb.
type Extractor struct {
	// TempDir holds the copy of the database SQLite needs; "" means
	// os.TempDir. Streamed images cannot be opened in place.
	TempDir string
}

// New returns an rpm extractor.
func New() *Extractor { return &Extractor{} }

// Name returns "os/rpm".
func (*Extractor) Name() string { return Name }

// Version returns the extractor version.
func (*Extractor) Version() int { return 1 }

// Required reports whether p is a SQLite rpmdb.
func (*Extractor) Required(p string, _ fs.FileInfo) bool {
	return p == "var/lib/rpm/rpmdb.sqlite" || p == "usr/lib/sysimage/rpm/rpmdb.sqlite"
}

// Extract copies the database to a temporary file (SQLite needs a file),
// reads every header and removes the copy.
func (e *Extractor) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(e.TempDir, "palisade-rpmdb-*.sqlite")
	if err != nil {
		return nil, fmt.Errorf("copy rpmdb: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, in.R)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("copy rpmdb: %w", err)
	}
	return ReadDB(ctx, f.Name())
}

// ReadDB reads the packages of the SQLite rpmdb at file, read-only.
func ReadDB(ctx context.Context, file string) ([]inventory.Package, error) {
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return nil, fmt.Errorf("open rpmdb: %w", err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT hnum, blob FROM Packages ORDER BY hnum")
	if err != nil {
		return nil, fmt.Errorf("query rpmdb: %w", err)
	}
	defer rows.Close()
	var pkgs []inventory.Package
	var errs []error
	for rows.Next() {
		var hnum int64
		var blob []byte
		if err := rows.Scan(&hnum, &blob); err != nil {
			return pkgs, fmt.Errorf("read rpmdb row: %w", err)
		}
		h, err := ParseHeader(blob)
		if err != nil {
			errs = append(errs, fmt.Errorf("package %d: %w", hnum, err))
			continue
		}
		if h.Name == "" || h.Name == "gpg-pubkey" || h.Version == "" {
			continue
		}
		pkgs = append(pkgs, toPackage(h))
	}
	if err := rows.Err(); err != nil {
		errs = append(errs, fmt.Errorf("read rpmdb: %w", err))
	}
	return pkgs, errors.Join(errs...)
}

// toPackage converts a header; Version is "[epoch:]version-release".
func toPackage(h Header) inventory.Package {
	v := h.Version
	if h.Release != "" {
		v += "-" + h.Release
	}
	if h.HasEpoch && h.Epoch != 0 {
		v = strconv.Itoa(int(h.Epoch)) + ":" + v
	}
	p := inventory.Package{
		Ecosystem: "Red Hat",
		Name:      h.Name,
		Version:   v,
		Arch:      h.Arch,
		Type:      inventory.TypeRPM,
	}
	p.SourceName = h.Name
	if src := SourceName(h.SourceRPM); src != "" {
		p.SourceName = src
	}
	p.PURL = inventory.OSPackagePURL(p, nil)
	return p
}

// SourceName returns the package name of a source rpm file name:
// "bash-5.1.8-6.el9.src.rpm" → "bash".
func SourceName(srpm string) string {
	s := strings.TrimSuffix(strings.TrimSuffix(srpm, ".rpm"), ".src")
	s = strings.TrimSuffix(s, ".nosrc")
	for range 2 {
		i := strings.LastIndexByte(s, '-')
		if i <= 0 {
			return ""
		}
		s = s[:i]
	}
	return s
}

var _ inventory.Extractor = (*Extractor)(nil)
