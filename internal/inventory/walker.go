package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/palisade-sec/palisade/internal/image"
)

// osReleasePaths are read during the walk; detectOS picks after it,
// following /etc/os-release if it is a symlink.
const (
	etcOSRelease    = "etc/os-release"
	usrLibOSRelease = "usr/lib/os-release"
)

// scanner is the state of one Scan.
type scanner struct {
	exs     []Extractor
	max     int64
	fsys    fs.FS
	pkgs    []Package
	errs    []*FileError
	osFiles map[string][]byte
	// lineage tracks, per extracted path, the packages that every lower
	// version of the file seen so far also lists: they were added by a
	// lower layer than the one providing the final file.
	lineage map[string]map[pkgKey]int
}

// pkgKey identifies a package within one file's extraction.
type pkgKey struct{ extractor, name, version string }

func newScanner(exs []Extractor, max int64, fsys fs.FS) *scanner {
	return &scanner{exs: exs, max: max, fsys: fsys, osFiles: map[string][]byte{}, lineage: map[string]map[pkgKey]int{}}
}

// visit is the image.Visitor of a scan. Layers come newest first, so the
// final version of a file is seen before the versions it replaced.
func (s *scanner) visit(ctx context.Context, f *image.File, r io.Reader) error {
	if r == nil {
		return nil
	}
	if !f.Final {
		return s.attribute(ctx, f, r)
	}
	if f.Path == etcOSRelease || f.Path == usrLibOSRelease {
		data, err := io.ReadAll(LimitReader(r, maxOSReleaseSize))
		if err != nil {
			s.errs = append(s.errs, &FileError{Path: f.Path, Layer: f.Layer, Err: fmt.Errorf("read os-release: %w", err)})
			return nil
		}
		s.osFiles[f.Path] = data
		r = bytes.NewReader(data)
	}
	found, err := s.extract(ctx, f, r, true)
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return nil
	}
	live := map[pkgKey]int{}
	for _, p := range found {
		live[pkgKey{p.Extractor, p.Name, p.Version}] = len(s.pkgs)
		s.pkgs = append(s.pkgs, p)
	}
	s.lineage[f.Path] = live
	return nil
}

// attribute reads an older version of a file whose final version was
// extracted: packages it lists too were added by its layer (or lower),
// not by the layer of the final file. A deletion ends the lineage.
func (s *scanner) attribute(ctx context.Context, f *image.File, r io.Reader) error {
	live := s.lineage[f.Path]
	if len(live) == 0 {
		return nil
	}
	if f.Deleted {
		delete(s.lineage, f.Path)
		return nil
	}
	found, err := s.extract(ctx, f, r, false)
	if err != nil {
		return err
	}
	still := map[pkgKey]int{}
	for _, p := range found {
		k := pkgKey{p.Extractor, p.Name, p.Version}
		if i, ok := live[k]; ok {
			s.pkgs[i].Layer = f.Layer
			still[k] = i
		}
	}
	s.lineage[f.Path] = still
	return nil
}

// extract runs the extractors that want f. Failures are recorded when
// record is set (the final file) and dropped for older versions, which
// only refine layer attribution. The error is non-nil only when ctx is
// done.
func (s *scanner) extract(ctx context.Context, f *image.File, r io.Reader, record bool) ([]Package, error) {
	fail := func(ex string, err error) {
		if record {
			s.errs = append(s.errs, &FileError{Extractor: ex, Path: f.Path, Layer: f.Layer, Err: err})
		}
	}
	var want []Extractor
	for _, ex := range s.exs {
		if ex.Required(f.Path, f.Info) {
			want = append(want, ex)
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	if f.Info.Size() > s.max {
		for _, ex := range want {
			fail(ex.Name(), fmt.Errorf("%w: %d bytes, cap %d", image.ErrFileTooLarge, f.Info.Size(), s.max))
		}
		return nil, nil
	}
	var shared []byte
	if len(want) > 1 {
		data, err := io.ReadAll(LimitReader(r, s.max))
		if err != nil {
			fail("", fmt.Errorf("read: %w", err))
			return nil, nil
		}
		shared = data
	}
	var out []Package
	for _, ex := range want {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in := &Input{FS: s.fsys, Path: f.Path, Info: f.Info, MaxSize: s.max, Layer: f.Layer, R: LimitReader(r, s.max)}
		if shared != nil {
			in.R = LimitReader(bytes.NewReader(shared), s.max)
		}
		pkgs, err := ex.Extract(ctx, in)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
				return nil, err
			}
			fail(ex.Name(), err)
		}
		for _, p := range pkgs {
			if len(p.Locations) == 0 {
				p.Locations = []string{f.Path}
			}
			p.Layer = f.Layer
			p.Extractor = ex.Name()
			out = append(out, p)
		}
	}
	return out, nil
}
