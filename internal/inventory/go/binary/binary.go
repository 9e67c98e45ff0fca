// Package binary extracts Go modules from the build information embedded
// in Go executables: the main module, every dependency (replacements
// resolved) and the Go toolchain as the "stdlib" package.
package binary

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/palisade-sec/palisade/internal/inventory"
)

// Name is the extractor's name.
const Name = "go/binary"

const (
	// minSize skips files too small to be a Go executable.
	minSize = 1 << 10
)

// Extractor reads Go build information.
type Extractor struct{}

// New returns a Go binary extractor.
func New() *Extractor { return &Extractor{} }

// Name returns "go/binary".
func (*Extractor) Name() string { return Name }

// Version returns the extractor version.
func (*Extractor) Version() int { return 1 }

// Required reports whether fi is an executable regular file of a
// plausible size.
func (*Extractor) Required(_ string, fi fs.FileInfo) bool {
	m := fi.Mode()
	// No upper bound here: the scan's size cap reports oversized files
	// instead of skipping them silently.
	return m.IsRegular() && m.Perm()&0o111 != 0 && fi.Size() >= minSize
}

// Extract returns the modules of a Go executable, and nothing (no error)
// for other files. It holds the file in memory (up to in.MaxSize) because
// debug/buildinfo needs random access.
func (e *Extractor) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	head := make([]byte, 4)
	n, err := io.ReadFull(in.R, head)
	if err != nil && n < 2 {
		return nil, nil // too short to be an executable
	}
	head = head[:n]
	if !isExecutable(head) {
		return nil, nil
	}
	// One allocation of the file's size: no doubling, no copy.
	var buf bytes.Buffer
	if in.Info != nil && in.Info.Size() > 0 && (in.MaxSize <= 0 || in.Info.Size() <= in.MaxSize) {
		buf.Grow(int(in.Info.Size()) + bytes.MinRead)
	}
	buf.Write(head)
	if _, err := buf.ReadFrom(in.R); err != nil {
		return nil, fmt.Errorf("read executable: %w", err)
	}
	data := buf.Bytes()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bi, err := buildinfo.Read(bytes.NewReader(data))
	if err != nil {
		return nil, nil // an executable, but not a Go one (or stripped of build info)
	}
	return Packages(bi), nil
}

// isExecutable reports whether head starts like an executable format
// debug/buildinfo understands: ELF, Mach-O or PE.
func isExecutable(head []byte) bool {
	if bytes.HasPrefix(head, []byte("MZ")) {
		return true
	}
	if len(head) < 4 {
		return false
	}
	switch string(head[:4]) {
	case "\x7fELF", "\xfe\xed\xfa\xce", "\xfe\xed\xfa\xcf", "\xce\xfa\xed\xfe", "\xcf\xfa\xed\xfe":
		return true
	}
	return false
}

// Packages converts build information to packages. Versions are in OSV's
// form, without the "v" prefix ("0.3.7"); purls keep it.
func Packages(bi *buildinfo.BuildInfo) []inventory.Package {
	var out []inventory.Package
	if m := bi.Main; m.Path != "" && m.Version != "" && m.Version != "(devel)" {
		out = append(out, pkg(m.Path, m.Version))
	}
	for _, d := range bi.Deps {
		if d == nil {
			continue
		}
		if d.Replace != nil {
			d = d.Replace
		}
		if d.Path == "" || strings.HasPrefix(d.Path, ".") || strings.HasPrefix(d.Path, "/") {
			continue // a local replacement has no published version
		}
		out = append(out, pkg(d.Path, d.Version))
	}
	if v := goVersion(bi.GoVersion); v != "" {
		out = append(out, inventory.Package{
			Ecosystem: "Go", Name: "stdlib", Version: v, Type: "golang",
			PURL: inventory.PURL{Type: "golang", Name: "stdlib", Version: v}.String(),
		})
	}
	return out
}

func pkg(modPath, version string) inventory.Package {
	ns, name := path.Split(modPath)
	return inventory.Package{
		Ecosystem: "Go",
		Name:      modPath,
		Version:   strings.TrimPrefix(version, "v"),
		Type:      "golang",
		PURL:      inventory.PURL{Type: "golang", Namespace: ns, Name: name, Version: version}.String(),
	}
}

// goVersion turns "go1.22.5", "go1.22.5 X:boringcrypto" or
// "devel go1.23-abc" into "1.22.5"; it returns "" for unreleased
// toolchains.
func goVersion(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 || f[0] == "devel" {
		return ""
	}
	v := strings.TrimPrefix(f[0], "go")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	return v
}

var _ inventory.Extractor = (*Extractor)(nil)
