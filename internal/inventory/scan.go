package inventory

import (
	"context"
	"fmt"
	"io"

	"github.com/palisade-sec/palisade/internal/image"
)

// DefaultMaxFileSize caps the bytes an extractor may read from one file.
const DefaultMaxFileSize = 256 << 20

// maxOSReleaseSize caps os-release reads.
const maxOSReleaseSize = 64 << 10

// FileError is a failure to extract one file. Scans collect them and go on.
type FileError struct {
	Extractor string      // extractor name; "" for the walker itself
	Path      string      // file path
	Layer     image.Layer // layer that provides the file
	Err       error
}

// Error names the layer, path and extractor, then the cause.
func (e *FileError) Error() string {
	s := fmt.Sprintf("layer %d", e.Layer.Index)
	if e.Layer.Digest != "" {
		s += " " + e.Layer.Digest
	}
	s += ": " + e.Path
	if e.Extractor != "" {
		s += ": " + e.Extractor
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// Result is what Scan found.
type Result struct {
	// Packages are sorted by ecosystem, name, version and location.
	Packages []Package
	// OS is the detected distribution; nil when the image has no
	// readable os-release.
	OS *OS
	// FileErrors lists files that extractors could not parse.
	FileErrors []*FileError
	// LayerErrors lists layers and entries the walk could not read.
	LayerErrors []*image.FileError
	// Partial reports whether the result may miss packages because a
	// layer could not be read or the scan was cancelled. A partial result
	// must never be reported as a clean one.
	Partial bool
	// View is the squashed filesystem that was scanned.
	View *image.View
}

// Options tune Scan. The zero value uses the defaults.
type Options struct {
	// MaxFileSize caps the bytes read from one file; 0 means
	// DefaultMaxFileSize.
	MaxFileSize int64
}

// Scan walks img once and runs extractors over every file of its squashed
// filesystem. The error is non-nil only when the scan could not run to
// the end (ctx done); the partial result is still returned.
func Scan(ctx context.Context, img *image.Image, extractors []Extractor, opts Options) (*Result, error) {
	w := NewWalk(img, extractors, opts)
	view, err := img.Walk(ctx, w.Visit)
	return w.Result(view, err), err
}

// Walk is one inventory scan fed by a walk that the caller runs, so that
// a single pass over the layers can feed other consumers too (see
// image.Fanout). Scan is NewWalk, img.Walk(ctx, w.Visit), w.Result.
type Walk struct{ s *scanner }

// NewWalk prepares an inventory of img by extractors.
func NewWalk(img *image.Image, extractors []Extractor, opts Options) *Walk {
	max := opts.MaxFileSize
	if max <= 0 {
		max = DefaultMaxFileSize
	}
	return &Walk{s: newScanner(extractors, max, img.FS())}
}

// Visit is the image.Visitor of the inventory. It reads only the files
// an extractor requires.
func (w *Walk) Visit(ctx context.Context, f *image.File, r io.Reader) error {
	return w.s.visit(ctx, f, r)
}

// Result builds the inventory once the walk has ended. view and err are
// what image.Image.Walk returned: a non-nil err (ctx done, a visitor
// failed) makes the result partial.
func (w *Walk) Result(view *image.View, err error) *Result {
	s := w.s
	res := &Result{Packages: s.pkgs, FileErrors: s.errs, View: view}
	if view != nil {
		res.LayerErrors = view.Errors
		res.Partial = view.Partial
		res.OS = detectOS(view, s.osFiles)
	}
	if err != nil {
		res.Partial = true
	}
	applyOS(res.Packages, res.OS)
	SortPackages(res.Packages)
	return res
}

// detectOS picks the os-release the image would use: /etc/os-release
// (following symlinks within the image), else /usr/lib/os-release.
func detectOS(v *image.View, files map[string][]byte) *OS {
	candidates := []string{etcOSRelease, usrLibOSRelease}
	if p, _, err := v.Resolve(etcOSRelease); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, p := range candidates {
		data, ok := files[p]
		if !ok {
			continue
		}
		if o, ok := ParseOSRelease(data); ok {
			o.Path = p
			return &o
		}
	}
	return nil
}
