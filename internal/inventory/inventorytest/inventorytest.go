// Package inventorytest runs table tests against an extractor and adds
// the cases every extractor must survive: a cancelled context, an empty
// file, a truncated file and a file over the size cap.
package inventorytest

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"path"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/inventory"
)

// Case is one extraction test.
type Case struct {
	Name    string
	Path    string      // file path, relative to the root
	Mode    fs.FileMode // 0 means 0o644
	Content []byte
	// Want lists the expected packages; Locations, Layer and Extractor
	// are ignored unless WantLocations is set.
	Want          []inventory.Package
	WantLocations bool
	// WantErr reports whether Extract must return an error.
	WantErr bool
}

// Info returns a FileInfo for a regular file at name of the given size.
func Info(name string, mode fs.FileMode, size int) fs.FileInfo {
	if mode == 0 {
		mode = 0o644
	}
	return fileInfo{name: path.Base(name), mode: mode, size: int64(size)}
}

type fileInfo struct {
	name string
	mode fs.FileMode
	size int64
}

func (f fileInfo) Name() string       { return f.name }
func (f fileInfo) Size() int64        { return f.size }
func (f fileInfo) Mode() fs.FileMode  { return f.mode }
func (f fileInfo) ModTime() time.Time { return time.Unix(0, 0) }
func (f fileInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fileInfo) Sys() any           { return nil }

// Input builds an extractor input for content at p.
func Input(p string, mode fs.FileMode, content []byte, max int64) *inventory.Input {
	return &inventory.Input{
		Path:    p,
		Info:    Info(p, mode, len(content)),
		R:       inventory.LimitReader(bytes.NewReader(content), max),
		MaxSize: max,
	}
}

// Run checks ex against cases, then runs the robustness cases on every
// case's file: Extract must honour a cancelled context, and must neither
// panic nor hang on an empty file or the file cut in half. With a size cap
// of half the file it must either fail or, when it needed only the head
// of the file, return exactly the expected packages.
func Run(t *testing.T, ex inventory.Extractor, cases []Case) {
	t.Helper()
	ignore := cmpopts.IgnoreFields(inventory.Package{}, "Locations", "Layer", "Extractor")
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if !ex.Required(c.Path, Info(c.Path, c.Mode, len(c.Content))) {
				t.Fatalf("Required(%q) = false", c.Path)
			}
			got, err := ex.Extract(t.Context(), Input(c.Path, c.Mode, c.Content, inventory.DefaultMaxFileSize))
			if (err != nil) != c.WantErr {
				t.Fatalf("Extract error = %v, want error %v", err, c.WantErr)
			}
			var opts []cmp.Option
			if !c.WantLocations {
				opts = append(opts, ignore)
			}
			if diff := cmp.Diff(c.Want, got, append(opts, cmpopts.EquateEmpty())...); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
		if len(c.Content) == 0 {
			continue
		}
		t.Run(c.Name+"/cancelled", func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			got, err := ex.Extract(ctx, Input(c.Path, c.Mode, c.Content, inventory.DefaultMaxFileSize))
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Extract with a cancelled context: error = %v, want context.Canceled", err)
			}
			if len(got) != 0 {
				t.Errorf("Extract with a cancelled context returned %d packages", len(got))
			}
		})
		t.Run(c.Name+"/empty", func(t *testing.T) {
			_, _ = ex.Extract(t.Context(), Input(c.Path, c.Mode, nil, inventory.DefaultMaxFileSize))
		})
		t.Run(c.Name+"/truncated", func(t *testing.T) {
			_, _ = ex.Extract(t.Context(), Input(c.Path, c.Mode, c.Content[:len(c.Content)/2], inventory.DefaultMaxFileSize))
		})
		t.Run(c.Name+"/oversized", func(t *testing.T) {
			if len(c.Want) == 0 || len(c.Content) < 2 {
				return
			}
			max := int64(len(c.Content) / 2)
			got, err := ex.Extract(t.Context(), Input(c.Path, c.Mode, c.Content, max))
			if err != nil {
				if !errors.Is(err, image.ErrFileTooLarge) {
					t.Logf("oversized error does not wrap image.ErrFileTooLarge: %v", err)
				}
				return
			}
			// Success is allowed only when the extractor needed no more
			// than the cap (header-only formats) and the result is whole.
			if diff := cmp.Diff(c.Want, got, ignore, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Extract with a %d-byte cap on %d bytes: no error but different packages (-want +got):\n%s", max, len(c.Content), diff)
			}
		})
	}
}
