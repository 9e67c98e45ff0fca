// Package apk extracts Alpine packages from the apk database,
// /lib/apk/db/installed.
package apk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/palisade-sec/palisade/internal/inventory"
)

// Name is the extractor's name.
const Name = "os/apk"

const (
	installedFile = "lib/apk/db/installed"
	maxLine       = 1 << 20
)

// Extractor reads the apk installed database.
type Extractor struct{}

// New returns an apk extractor.
func New() *Extractor { return &Extractor{} }

// Name returns "os/apk".
func (*Extractor) Name() string { return Name }

// Version returns the extractor version.
func (*Extractor) Version() int { return 1 }

// Required reports whether path is lib/apk/db/installed.
func (*Extractor) Required(p string, _ fs.FileInfo) bool { return p == installedFile }

// Record is one package record of the database: single-letter keys
// (P name, V version, A arch, o origin, …). Repeated keys (F, R) keep the
// last value; they are not used.
type Record struct {
	Line   int
	Fields map[byte]string
}

// Extract parses the database and returns one package per record.
func (e *Extractor) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	recs, err := Parse(ctx, in.R)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	var pkgs []inventory.Package
	for _, r := range recs {
		name, version := r.Fields['P'], r.Fields['V']
		if name == "" || version == "" {
			errs = append(errs, fmt.Errorf("record at line %d: missing P or V", r.Line))
			continue
		}
		p := inventory.Package{
			Ecosystem: "Alpine",
			Name:      name,
			Version:   version,
			Arch:      r.Fields['A'],
			Type:      inventory.TypeAPK,
		}
		p.SourceName = name
		if o := r.Fields['o']; o != "" {
			p.SourceName = o
		}
		p.PURL = inventory.OSPackagePURL(p, nil)
		pkgs = append(pkgs, p)
	}
	return pkgs, errors.Join(errs...)
}

// Parse reads "K:value" records separated by blank lines.
func Parse(ctx context.Context, r io.Reader) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var out []Record
	var cur *Record
	line := 0
	for sc.Scan() {
		line++
		if line%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
		t := sc.Text()
		if strings.TrimSpace(t) == "" {
			if cur != nil {
				out = append(out, *cur)
				cur = nil
			}
			continue
		}
		if len(t) < 2 || t[1] != ':' {
			return out, fmt.Errorf("line %d: expected \"K:value\"", line)
		}
		if cur == nil {
			cur = &Record{Line: line, Fields: map[byte]string{}}
		}
		cur.Fields[t[0]] = t[2:]
	}
	if cur != nil {
		out = append(out, *cur)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("line %d: %w", line+1, err)
	}
	return out, nil
}

var _ inventory.Extractor = (*Extractor)(nil)
