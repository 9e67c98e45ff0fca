package inventory

import (
	"cmp"
	"slices"

	"github.com/palisade-sec/palisade/internal/image"
)

// Package is one installed package.
type Package struct {
	// Ecosystem is the OSV ecosystem name: "Debian:12", "Alpine:v3.11",
	// "Go", "npm", "PyPI", "Maven". OS packages get the release from the
	// detected OS; without one they carry the bare family ("Debian").
	Ecosystem string `json:"ecosystem"`
	// Name is the binary package name, or the module / artifact name
	// ("golang.org/x/text", "org.apache.logging.log4j:log4j-core").
	Name string `json:"name"`
	// Version is the installed version as the ecosystem writes it,
	// including the epoch for dpkg ("1:2.3-4") and rpm.
	Version string `json:"version"`
	// SourceName is the Debian source package, Alpine origin or RPM
	// source package; for OS packages it is always set (Name when the
	// database names no source). Empty for language packages.
	SourceName string `json:"sourceName,omitempty"`
	// SourceVersion is the source package version when it differs from
	// Version (dpkg "Source: src (ver)").
	SourceVersion string `json:"sourceVersion,omitempty"`
	// Arch is the package architecture, when the format records one.
	Arch string `json:"arch,omitempty"`
	// Type is the purl type: deb, apk, rpm, golang, npm, pypi, maven.
	Type string `json:"type"`
	// PURL is the package URL.
	PURL string `json:"purl"`
	// Locations lists the files that describe the package, first the one
	// it was extracted from.
	Locations []string `json:"locations"`
	// Layer is the layer that added the package: of the unbroken run of
	// versions of its file, from the final one down, the lowest layer
	// whose version still lists the same name and version. An upgrade in
	// a later layer, or a deletion and re-creation of the file, moves it
	// up to that layer.
	Layer image.Layer `json:"layer"`
	// Extractor is the name of the extractor that found it.
	Extractor string `json:"extractor"`
}

// SortPackages orders packages by ecosystem, name, version and location,
// so results are deterministic.
func SortPackages(pkgs []Package) {
	slices.SortStableFunc(pkgs, func(a, b Package) int {
		return cmp.Or(
			cmp.Compare(a.Ecosystem, b.Ecosystem),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Version, b.Version),
			cmp.Compare(first(a.Locations), first(b.Locations)),
		)
	})
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
