// Package list names the extractors Palisade ships. Registration is this
// explicit slice: no init(), no blank imports.
package list

import (
	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/go/binary"
	"github.com/palisade-sec/palisade/internal/inventory/java/archive"
	"github.com/palisade-sec/palisade/internal/inventory/javascript/nodemodules"
	"github.com/palisade-sec/palisade/internal/inventory/javascript/packagelock"
	"github.com/palisade-sec/palisade/internal/inventory/os/apk"
	"github.com/palisade-sec/palisade/internal/inventory/os/dpkg"
	"github.com/palisade-sec/palisade/internal/inventory/os/rpm"
	"github.com/palisade-sec/palisade/internal/inventory/python/wheel"
)

// Default returns a new slice of every extractor, OS packages first.
func Default() []inventory.Extractor {
	return []inventory.Extractor{
		dpkg.New(),
		apk.New(),
		rpm.New(),
		binary.New(),
		packagelock.New(),
		nodemodules.New(),
		wheel.New(),
		archive.New(),
	}
}
