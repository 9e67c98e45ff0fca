// Package nodemodules extracts installed npm packages from
// node_modules/**/package.json.
package nodemodules

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"

	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/javascript"
)

// Name is the extractor's name.
const Name = "javascript/nodemodules"

// maxSize skips package.json files larger than any real manifest.
const maxSize = 8 << 20

// Extractor reads installed package manifests.
type Extractor struct{}

// New returns a node_modules extractor.
func New() *Extractor { return &Extractor{} }

// Name returns "javascript/nodemodules".
func (*Extractor) Name() string { return Name }

// Version returns the extractor version.
func (*Extractor) Version() int { return 1 }

// Required reports whether p is the package.json at the top of an
// installed package: node_modules/NAME/package.json or
// node_modules/@scope/NAME/package.json.
func (*Extractor) Required(p string, fi fs.FileInfo) bool {
	if path.Base(p) != "package.json" || fi.Size() > maxSize {
		return false
	}
	_, ok := javascript.NameFromPath(path.Dir(p))
	return ok
}

type manifest struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Private bool   `json:"private"`
}

// Extract returns the package the manifest describes; manifests without
// a name or version (fixtures, private workspace packages) give nothing.
func (e *Extractor) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var m manifest
	if err := json.NewDecoder(in.R).Decode(&m); err != nil {
		return nil, fmt.Errorf("decode package.json: %w", err)
	}
	if m.Name == "" || m.Version == "" {
		return nil, nil
	}
	return []inventory.Package{javascript.Package(m.Name, m.Version)}, nil
}

var _ inventory.Extractor = (*Extractor)(nil)
