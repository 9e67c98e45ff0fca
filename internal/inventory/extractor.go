package inventory

import (
	"context"
	"io"
	"io/fs"

	"github.com/palisade-sec/palisade/internal/image"
)

// Extractor finds packages in one kind of file.
type Extractor interface {
	// Name is stable and unique ("os/dpkg"); it appears in findings,
	// flags and attestations.
	Name() string
	// Version is bumped when the output for the same input changes.
	Version() int
	// Required reports whether the file at path (slash separated,
	// relative to the root, no leading slash) should be extracted. It
	// sees the path and file info only and never reads.
	Required(path string, fi fs.FileInfo) bool
	// Extract parses in.R and returns the packages it describes.
	Extract(ctx context.Context, in *Input) ([]Package, error)
}

// Input is one file offered to an extractor.
type Input struct {
	// FS is the root filesystem for dir: sources; nil for images, whose
	// files are streamed and cannot be opened out of order.
	FS fs.FS
	// Path is the file's path, relative to the root, no leading slash.
	Path string
	// Info describes the file.
	Info fs.FileInfo
	// R reads the content; it fails with image.ErrFileTooLarge after
	// MaxSize bytes.
	R io.Reader
	// MaxSize is the cap R enforces.
	MaxSize int64
	// Layer is the layer that provides the file.
	Layer image.Layer
}

// LimitReader returns a reader of r that fails with image.ErrFileTooLarge
// once more than n bytes have been read.
func LimitReader(r io.Reader, n int64) io.Reader {
	return &limitReader{r: r, left: n}
}

type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, image.ErrFileTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n + int(l.left), image.ErrFileTooLarge
	}
	return n, err
}
