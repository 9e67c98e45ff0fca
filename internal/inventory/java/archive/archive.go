// Package archive extracts Maven artifacts from Java archives (jar, war,
// ear and Jenkins plugins), including archives nested inside them
// (WEB-INF/lib, BOOT-INF/lib, fat jars): META-INF/maven/**/pom.properties
// first, META-INF/MANIFEST.MF and the file name as fallbacks.
package archive

import (
	"archive/zip"
	"bufio"
	"bytes"
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
const Name = "java/archive"

// Limits against zip bombs and hostile nesting.
const (
	MaxNestedSize = 64 << 20  // one nested archive, uncompressed
	MaxTotal      = 512 << 20 // all uncompressed bytes read for one file
	MaxDepth      = 3         // archive nesting depth
	MaxEntries    = 200_000   // entries per archive
	maxSmallFile  = 1 << 20   // pom.properties, MANIFEST.MF
)

// Extractor reads Java archives.
type Extractor struct{}

// New returns a Java archive extractor.
func New() *Extractor { return &Extractor{} }

// Name returns "java/archive".
func (*Extractor) Name() string { return Name }

// Version returns the extractor version.
func (*Extractor) Version() int { return 1 }

// Required reports whether p has a Java archive extension. Oversized
// archives are still required, so the scan reports them instead of
// skipping them silently.
func (*Extractor) Required(p string, _ fs.FileInfo) bool {
	return isArchive(p)
}

func isArchive(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".jar", ".war", ".ear", ".jpi", ".hpi", ".par", ".sar":
		return true
	}
	return false
}

// Extract returns the artifacts in the archive and its nested archives.
// Locations are "app.war!/WEB-INF/lib/x.jar" for nested ones.
func (e *Extractor) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(in.R)
	if err != nil {
		return nil, fmt.Errorf("read archive: %w", err)
	}
	w := &walker{budget: MaxTotal}
	err = w.archive(ctx, data, in.Path, 0)
	return w.pkgs, err
}

type walker struct {
	pkgs   []inventory.Package
	budget int64
}

// archive reads one zip held in data; loc names it.
func (w *walker) archive(ctx context.Context, data []byte, loc string, depth int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("open %s: %w", loc, err)
	}
	if len(zr.File) > MaxEntries {
		return fmt.Errorf("open %s: %d entries, cap %d", loc, len(zr.File), MaxEntries)
	}
	var manifest []byte
	found := 0
	var errs []error
	for _, f := range zr.File {
		name := f.Name
		switch {
		case strings.HasPrefix(name, "META-INF/maven/") && path.Base(name) == "pom.properties":
			b, err := w.read(f, maxSmallFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s!/%s: %w", loc, name, err))
				continue
			}
			if p, ok := fromPomProperties(b); ok {
				p.Locations = []string{loc + "!/" + name}
				w.pkgs = append(w.pkgs, p)
				found++
			}
		case name == "META-INF/MANIFEST.MF":
			b, err := w.read(f, maxSmallFile)
			if err == nil {
				manifest = b
			}
		case isArchive(name) && !f.FileInfo().IsDir():
			nested := loc + "!/" + name
			if depth+1 > MaxDepth {
				errs = append(errs, fmt.Errorf("%s: nested deeper than %d", nested, MaxDepth))
				continue
			}
			b, err := w.read(f, MaxNestedSize)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", nested, err))
				continue
			}
			if err := w.archive(ctx, b, nested, depth+1); err != nil {
				if ctx.Err() != nil {
					return err
				}
				errs = append(errs, err)
			}
		}
	}
	if found == 0 {
		if p, ok := fromManifest(manifest, loc); ok {
			p.Locations = []string{loc}
			w.pkgs = append(w.pkgs, p)
		}
	}
	return errors.Join(errs...)
}

// read decompresses f, at most limit bytes and within the walk's budget.
func (w *walker) read(f *zip.File, limit int64) ([]byte, error) {
	if int64(f.UncompressedSize64) > limit || f.UncompressedSize64 > 1<<62 {
		return nil, fmt.Errorf("entry is %d bytes, cap %d", f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(inventory.LimitReader(rc, min(limit, w.budget)))
	w.budget -= int64(len(b))
	if err != nil {
		return nil, err
	}
	return b, nil
}

// fromPomProperties builds a package from a pom.properties file.
func fromPomProperties(b []byte) (inventory.Package, bool) {
	props := parseProperties(b)
	g, a, v := props["groupId"], props["artifactId"], props["version"]
	if g == "" || a == "" || v == "" {
		return inventory.Package{}, false
	}
	return mavenPackage(g, a, v), true
}

// fromManifest builds a package from MANIFEST.MF attributes, falling back
// to "artifact-1.2.3.jar" file names for the version.
func fromManifest(b []byte, loc string) (inventory.Package, bool) {
	attrs := parseManifest(b)
	sym, _, _ := strings.Cut(attrs["Bundle-SymbolicName"], ";")
	sym = strings.TrimSpace(sym)
	artifact := attrs["Implementation-Title"]
	if artifact == "" || strings.ContainsRune(artifact, ' ') {
		artifact = sym
	}
	version := first(attrs["Implementation-Version"], attrs["Bundle-Version"])
	group := first(attrs["Implementation-Vendor-Id"], sym)
	leaf := loc[strings.LastIndex(loc, "/")+1:]
	stem := strings.TrimSuffix(leaf, path.Ext(leaf))
	if i := strings.LastIndexByte(stem, '-'); i > 0 && i+1 < len(stem) && stem[i+1] >= '0' && stem[i+1] <= '9' {
		if artifact == "" {
			artifact = stem[:i]
		}
		if version == "" {
			version = stem[i+1:]
		}
	}
	if artifact == "" || version == "" || strings.ContainsRune(artifact, ' ') {
		return inventory.Package{}, false
	}
	return mavenPackage(group, artifact, version), true
}

func mavenPackage(group, artifact, version string) inventory.Package {
	name := artifact
	if group != "" {
		name = group + ":" + artifact
	}
	return inventory.Package{
		Ecosystem: "Maven",
		Name:      name,
		Version:   version,
		Type:      "maven",
		PURL:      inventory.PURL{Type: "maven", Namespace: group, Name: artifact, Version: version}.String(),
	}
}

// parseProperties reads "key=value" and "key: value" lines.
func parseProperties(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, maxSmallFile)
	for sc.Scan() {
		t := strings.TrimSpace(sc.Text())
		if t == "" || t[0] == '#' || t[0] == '!' {
			continue
		}
		i := strings.IndexAny(t, "=:")
		if i < 0 {
			continue
		}
		out[strings.TrimSpace(t[:i])] = strings.TrimSpace(t[i+1:])
	}
	return out
}

// parseManifest reads the main section of a manifest, joining
// continuation lines (which start with one space).
func parseManifest(b []byte) map[string]string {
	out := map[string]string{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, maxSmallFile)
	for sc.Scan() {
		t := strings.TrimRight(sc.Text(), "\r")
		if t == "" {
			break // end of the main section
		}
		if t[0] == ' ' && last != "" {
			out[last] += t[1:]
			continue
		}
		k, v, ok := strings.Cut(t, ":")
		if !ok {
			continue
		}
		last = strings.TrimSpace(k)
		out[last] = strings.TrimSpace(v)
	}
	return out
}

func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

var _ inventory.Extractor = (*Extractor)(nil)
