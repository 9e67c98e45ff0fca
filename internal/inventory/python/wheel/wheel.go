// Package wheel extracts installed Python distributions from their
// metadata: *.dist-info/METADATA (wheels, pip) and *.egg-info/PKG-INFO
// (setuptools eggs, also as a single *.egg-info file).
package wheel

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/palisade-sec/palisade/internal/inventory"
)

// Name is the extractor's name.
const Name = "python/wheel"

const (
	maxSize = 16 << 20
	maxLine = 1 << 20
)

// Extractor reads Python package metadata.
type Extractor struct{}

// New returns a Python metadata extractor.
func New() *Extractor { return &Extractor{} }

// Name returns "python/wheel".
func (*Extractor) Name() string { return Name }

// Version returns the extractor version.
func (*Extractor) Version() int { return 1 }

// Required reports whether p is a METADATA or PKG-INFO file of an
// installed distribution.
func (*Extractor) Required(p string, fi fs.FileInfo) bool {
	if fi.Size() > maxSize {
		return false
	}
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case base == "METADATA":
		return strings.HasSuffix(dir, ".dist-info")
	case base == "PKG-INFO":
		return strings.HasSuffix(dir, ".egg-info")
	}
	return strings.HasSuffix(base, ".egg-info") && fi.Mode().IsRegular()
}

// Extract reads the Name and Version headers (core metadata, RFC 822
// style); the header block ends at the first blank line.
func (e *Extractor) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name, version, err := ParseMetadata(in.R)
	if err != nil {
		return nil, err
	}
	if name == "" || version == "" {
		return nil, fmt.Errorf("metadata without Name or Version")
	}
	return []inventory.Package{{
		Ecosystem: "PyPI",
		Name:      name,
		Version:   version,
		Type:      "pypi",
		PURL:      inventory.PURL{Type: "pypi", Name: Normalize(name), Version: version}.String(),
	}}, nil
}

// ParseMetadata returns the Name and Version headers of core metadata.
func ParseMetadata(r io.Reader) (name, version string, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		if strings.TrimSpace(t) == "" {
			break
		}
		k, v, ok := strings.Cut(t, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "name":
			name = strings.TrimSpace(v)
		case "version":
			version = strings.TrimSpace(v)
		}
		if name != "" && version != "" {
			return name, version, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("line %d: %w", line+1, err)
	}
	return name, version, nil
}

// Normalize returns the PEP 503 normalized name, which purls and OSV
// matching use: lowercase, runs of "-", "_" and "." become "-".
func Normalize(name string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(name) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep {
			b.WriteByte('-')
			sep = false
		}
		b.WriteRune(r)
	}
	if sep {
		b.WriteByte('-')
	}
	return b.String()
}

var _ inventory.Extractor = (*Extractor)(nil)
