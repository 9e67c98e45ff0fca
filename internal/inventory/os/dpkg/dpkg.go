// Package dpkg extracts Debian packages from the dpkg database:
// /var/lib/dpkg/status and, in distroless images, one file per package
// under /var/lib/dpkg/status.d/.
package dpkg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/palisade-sec/palisade/internal/inventory"
)

// Name is the extractor's name.
const Name = "os/dpkg"

const (
	statusFile = "var/lib/dpkg/status"
	statusDir  = "var/lib/dpkg/status.d"
	// maxLine bounds one line of the database.
	maxLine = 1 << 20
)

// Extractor reads the dpkg status database.
type Extractor struct{}

// New returns a dpkg extractor.
func New() *Extractor { return &Extractor{} }

// Name returns "os/dpkg".
func (*Extractor) Name() string { return Name }

// Version returns the extractor version.
func (*Extractor) Version() int { return 1 }

// Required reports whether path is the status file or a status.d entry.
func (*Extractor) Required(p string, fi fs.FileInfo) bool {
	if p == statusFile {
		return true
	}
	if path.Dir(p) != statusDir {
		return false
	}
	return !strings.HasSuffix(p, ".md5sums")
}

// Extract parses the stanzas of a status file. Packages that are not
// installed (Status other than "… installed") are skipped; stanzas without
// Package or Version are reported and skipped.
func (e *Extractor) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	stanzas, err := Parse(ctx, in.R)
	var pkgs []inventory.Package
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, s := range stanzas {
		name, version := s.Fields["Package"], s.Fields["Version"]
		if name == "" || version == "" {
			errs = append(errs, fmt.Errorf("stanza at line %d: missing Package or Version", s.Line))
			continue
		}
		if st, ok := s.Fields["Status"]; ok && !installed(st) {
			continue
		}
		p := inventory.Package{
			Ecosystem: "Debian",
			Name:      name,
			Version:   version,
			Arch:      s.Fields["Architecture"],
			Type:      inventory.TypeDeb,
		}
		p.SourceName = name
		if src := s.Fields["Source"]; src != "" {
			p.SourceName, p.SourceVersion = parseSource(src)
		}
		p.PURL = inventory.OSPackagePURL(p, nil)
		pkgs = append(pkgs, p)
	}
	return pkgs, errors.Join(errs...)
}

// installed reports whether a Status value ("want flag status") says
// the package is installed.
func installed(status string) bool {
	f := strings.Fields(status)
	return len(f) == 3 && f[2] == "installed"
}

// parseSource splits "src" or "src (version)".
func parseSource(s string) (name, version string) {
	name, rest, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return name, ""
	}
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") {
		version = strings.TrimSpace(rest[1 : len(rest)-1])
	}
	return name, version
}

// Stanza is one paragraph of a control file.
type Stanza struct {
	Line   int               // line number where it starts, 1-based
	Fields map[string]string // field values; continuation lines joined with "\n"
}

// Parse reads deb822 paragraphs from r. It returns the stanzas read before
// any error; the error names the line.
func Parse(ctx context.Context, r io.Reader) ([]Stanza, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var out []Stanza
	var cur *Stanza
	last := ""
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
		if t[0] == ' ' || t[0] == '\t' {
			if cur == nil || last == "" {
				return out, fmt.Errorf("line %d: continuation line outside a field", line)
			}
			cur.Fields[last] += "\n" + strings.TrimSpace(t)
			continue
		}
		if t[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(t, ":")
		if !ok {
			return out, fmt.Errorf("line %d: expected \"Field: value\"", line)
		}
		if cur == nil {
			cur = &Stanza{Line: line, Fields: map[string]string{}}
		}
		last = k
		cur.Fields[k] = strings.TrimSpace(v)
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
