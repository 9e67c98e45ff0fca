// Package packagelock extracts npm packages from package-lock.json and
// npm-shrinkwrap.json, lockfile versions 1, 2 and 3.
package packagelock

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/javascript"
)

// Name is the extractor's name.
const Name = "javascript/packagelock"

// maxDepth bounds the nesting of v1 "dependencies".
const maxDepth = 64

// Extractor reads npm lockfiles.
type Extractor struct{}

// New returns a package-lock extractor.
func New() *Extractor { return &Extractor{} }

// Name returns "javascript/packagelock".
func (*Extractor) Name() string { return Name }

// Version returns the extractor version.
func (*Extractor) Version() int { return 1 }

// Required reports whether p is a lockfile outside node_modules (the
// hidden node_modules/.package-lock.json is left to the installed-package
// extractor).
func (*Extractor) Required(p string, _ fs.FileInfo) bool {
	b := path.Base(p)
	if b != "package-lock.json" && b != "npm-shrinkwrap.json" {
		return false
	}
	return !strings.Contains("/"+p, "/node_modules/")
}

// lockfile is the part of the format we read.
type lockfile struct {
	LockfileVersion int                   `json:"lockfileVersion"`
	Packages        map[string]lockEntry  `json:"packages"`     // v2, v3
	Dependencies    map[string]dependency `json:"dependencies"` // v1, v2
}

type lockEntry struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Link    bool   `json:"link"`
}

type dependency struct {
	Version      string                `json:"version"`
	Dependencies map[string]dependency `json:"dependencies"`
}

// Extract parses the lockfile. Packages installed from git, files or
// URLs (no registry version) are skipped; aliases ("npm:name@1.2.3")
// resolve to the real package.
func (e *Extractor) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var lf lockfile
	if err := json.NewDecoder(in.R).Decode(&lf); err != nil {
		return nil, fmt.Errorf("decode lockfile: %w", err)
	}
	seen := map[[2]string]bool{}
	var out []inventory.Package
	add := func(name, version string) {
		name, version, ok := resolve(name, version)
		if !ok || seen[[2]string{name, version}] {
			return
		}
		seen[[2]string{name, version}] = true
		out = append(out, javascript.Package(name, version))
	}
	if len(lf.Packages) > 0 {
		keys := make([]string, 0, len(lf.Packages))
		for k := range lf.Packages {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := lf.Packages[k]
			if k == "" || v.Link {
				continue
			}
			name, ok := javascript.NameFromPath(k)
			if !ok {
				continue // a workspace folder, not an installed package
			}
			if v.Name != "" {
				name = v.Name
			}
			add(name, v.Version)
		}
		return out, ctx.Err()
	}
	if err := walkV1(ctx, lf.Dependencies, 0, add); err != nil {
		return out, err
	}
	return out, nil
}

// walkV1 visits v1 dependencies depth first, in name order.
func walkV1(ctx context.Context, deps map[string]dependency, depth int, add func(string, string)) error {
	if depth > maxDepth {
		return fmt.Errorf("dependencies nested deeper than %d", maxDepth)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	names := make([]string, 0, len(deps))
	for n := range deps {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		d := deps[n]
		add(n, d.Version)
		if err := walkV1(ctx, d.Dependencies, depth+1, add); err != nil {
			return err
		}
	}
	return nil
}

// resolve turns a lockfile name and version into a registry package,
// following "npm:" aliases; ok is false for non-registry sources.
func resolve(name, version string) (string, string, bool) {
	if real, ok := strings.CutPrefix(version, "npm:"); ok {
		i := strings.LastIndex(real, "@")
		if i <= 0 {
			return "", "", false
		}
		name, version = real[:i], real[i+1:]
	}
	if name == "" || version == "" || strings.ContainsAny(version, ":/") {
		return "", "", false
	}
	return name, version, true
}

var _ inventory.Extractor = (*Extractor)(nil)
