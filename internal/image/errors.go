package image

import (
	"errors"
	"fmt"
)

// FileError is an error about one layer, or one path in one layer. Walks
// collect them instead of stopping, and mark the result partial.
type FileError struct {
	Layer string // layer digest; "" for dir: sources
	Index int    // layer index
	Path  string // path inside the layer; "" when the layer as a whole failed
	Err   error
}

// Error names the layer and path, then the cause.
func (e *FileError) Error() string {
	where := fmt.Sprintf("layer %d", e.Index)
	if e.Layer != "" {
		where += " " + e.Layer
	}
	if e.Path != "" {
		where += ": " + e.Path
	}
	return where + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// Errors that describe hostile or broken layer content.
var (
	// ErrUnsafePath marks a tar entry whose name leaves the root ("../x").
	ErrUnsafePath = errors.New("unsafe path in layer")
	// ErrSymlinkLoop marks a symlink chain that does not end within
	// MaxSymlinkHops hops.
	ErrSymlinkLoop = errors.New("too many levels of symbolic links")
	// ErrFileTooLarge marks a file larger than a reader's size cap.
	ErrFileTooLarge = errors.New("file exceeds size cap")
)
