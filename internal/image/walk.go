package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// File is one entry of one layer, as a walk offers it to a Visitor.
type File struct {
	// Path is the cleaned path relative to the image root, slash
	// separated, without a leading slash: "etc/os-release".
	Path string
	// Info describes the entry as the layer stores it.
	Info fs.FileInfo
	// Linkname is the symlink or hard-link target, as stored.
	Linkname string
	// Layer is the layer that holds this entry.
	Layer Layer
	// Final reports whether this entry is the version of Path visible in
	// the squashed filesystem.
	Final bool
	// HiddenBy is the index of the upper layer that deleted (whiteout,
	// opaque directory) or replaced this entry; -1 when Final.
	HiddenBy int
	// Deleted reports whether HiddenBy removed the path rather than
	// replacing it with a new version.
	Deleted bool
}

// Visitor is called for every file, directory and link of every layer.
// r is non-nil only for regular files; it reads the content straight from
// the layer stream and is valid only during the call. Reading it is
// optional: the walk skips what is left. A Visitor error stops the walk.
type Visitor func(ctx context.Context, f *File, r io.Reader) error

// Whiteout names, from the OCI image spec (layer changesets).
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// overlay records what the layers above the current one did to a path.
type overlay struct {
	layer   int
	deleted bool // a whiteout removed the path
	dir     bool // the upper entry is a directory (lower contents merge)
}

// Walk reads every layer once and calls visit for each entry. It returns
// the squashed view. Unreadable layers and unsafe entries are recorded in
// View.Errors and make the view Partial; the walk goes on with the next
// layer. The returned error is non-nil only when ctx is done or visit
// failed; the view is then partial but still returned.
//
// Layers are read top (newest) first: an entry's fate is then known when it
// is read, so no file content is ever buffered or spooled to wait for
// later layers. Within a layer, entries come in tar order.
func (img *Image) Walk(ctx context.Context, visit Visitor) (*View, error) {
	v := newView(img.Layers)
	if img.dir != "" {
		return v, img.walkDir(ctx, v, visit)
	}
	upper := make(map[string]overlay)
	opaque := make(map[string]int)
	for i := len(img.layers) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			v.Partial = true
			return v, err
		}
		w := &layerWalk{v: v, layer: img.Layers[i], upper: upper, opaque: opaque, visit: visit}
		if err := w.run(ctx, img.layers[i]); err != nil {
			v.Partial = true
			return v, err
		}
	}
	return v, nil
}

// layerWalk is the state of reading one layer.
type layerWalk struct {
	v      *View
	layer  Layer
	upper  map[string]overlay
	opaque map[string]int
	visit  Visitor
}

// opener is the part of v1.Layer a walk needs.
type opener interface{ Uncompressed() (io.ReadCloser, error) }

// run reads the layer; it returns only fatal errors (ctx, visitor).
func (w *layerWalk) run(ctx context.Context, l opener) error {
	rc, err := l.Uncompressed()
	if err != nil {
		w.fail("", fmt.Errorf("open layer: %w", err))
		return nil
	}
	defer rc.Close()
	pending := make(map[string]overlay)
	pendingOpaque := make(map[string]int)
	tr := tar.NewReader(rc)
	last := ""
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			where := ""
			if last != "" {
				where = "after " + last
			}
			w.fail(where, fmt.Errorf("read layer: %w", err))
			break
		}
		name, ok := cleanName(hdr.Name)
		if !ok {
			w.v.Errors = append(w.v.Errors, &FileError{Layer: w.layer.Digest, Index: w.layer.Index, Path: hdr.Name, Err: ErrUnsafePath})
			continue
		}
		last = name
		if name == "" {
			continue // the root directory itself
		}
		dir, base := path.Dir(name), path.Base(name)
		if dir == "." {
			dir = ""
		}
		if base == opaqueMarker {
			pendingOpaque[dir] = w.layer.Index
			continue
		}
		if strings.HasPrefix(base, whiteoutPrefix) {
			target := path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix))
			if _, ok := pending[target]; !ok {
				pending[target] = overlay{layer: w.layer.Index, deleted: true}
			}
			continue
		}
		if err := w.entry(ctx, tr, hdr, name, pending); err != nil {
			return err
		}
	}
	for p, o := range pending {
		if _, ok := w.upper[p]; !ok {
			w.upper[p] = o
		}
	}
	for p, i := range pendingOpaque {
		if _, ok := w.opaque[p]; !ok {
			w.opaque[p] = i
		}
	}
	return nil
}

// entry handles one non-whiteout entry.
func (w *layerWalk) entry(ctx context.Context, tr *tar.Reader, hdr *tar.Header, name string, pending map[string]overlay) error {
	f := &File{Path: name, Info: hdr.FileInfo(), Linkname: hdr.Linkname, Layer: w.layer, HiddenBy: -1}
	isDir := hdr.Typeflag == tar.TypeDir
	if by, deleted, hidden := w.hidden(name); hidden {
		f.HiddenBy, f.Deleted = by, deleted
	} else {
		f.Final = true
		w.v.nodes[name] = Node{Mode: f.Info.Mode(), Size: hdr.Size, Linkname: hdr.Linkname, Layer: w.layer.Index}
	}
	pending[name] = overlay{layer: w.layer.Index, dir: isDir}
	if w.visit == nil {
		return nil
	}
	var r io.Reader
	if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA || hdr.Typeflag == tar.TypeGNUSparse {
		r = tr
	}
	if err := w.visit(ctx, f, r); err != nil {
		return fmt.Errorf("visit layer %s path %s: %w", w.layer.Digest, name, err)
	}
	return nil
}

// hidden reports whether an upper layer deleted or replaced name, which
// upper layer did, and whether it was a deletion.
func (w *layerWalk) hidden(name string) (int, bool, bool) {
	if o, ok := w.upper[name]; ok {
		// Replaced or deleted. A directory under an upper directory is
		// merged: the upper one's metadata wins, and the lower
		// directory's entries stay visible unless it is opaque.
		return o.layer, o.deleted, true
	}
	for a := name; ; {
		a = path.Dir(a)
		if a == "." || a == "/" {
			a = ""
		}
		if i, ok := w.opaque[a]; ok {
			return i, true, true
		}
		if a == "" {
			break
		}
		if o, ok := w.upper[a]; ok && (o.deleted || !o.dir) {
			return o.layer, o.deleted, true
		}
	}
	return 0, false, false
}

// fail records a layer-level error and marks the view partial.
func (w *layerWalk) fail(p string, err error) {
	w.v.Partial = true
	w.v.Errors = append(w.v.Errors, &FileError{Layer: w.layer.Digest, Index: w.layer.Index, Path: p, Err: err})
}

// cleanName turns a tar entry name into a view path. Absolute names are
// taken relative to the root; names that climb out of it are rejected.
func cleanName(n string) (string, bool) {
	n = strings.TrimPrefix(n, "./")
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", false
		}
	}
	if strings.ContainsRune(n, 0) {
		return "", false
	}
	return cleanLookup(n), true
}
