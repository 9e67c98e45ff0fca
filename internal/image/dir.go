package image

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// walkDir walks an unpacked root filesystem: one pseudo-layer, every file
// final. Symlinks are reported, never followed.
func (img *Image) walkDir(ctx context.Context, v *View, visit Visitor) error {
	fsys := os.DirFS(img.dir)
	layer := img.Layers[0]
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			v.Partial = true
			return cerr
		}
		if err != nil {
			v.Partial = true
			v.Errors = append(v.Errors, &FileError{Index: 0, Path: p, Err: fmt.Errorf("read rootfs: %w", err)})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p == "." {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			v.Errors = append(v.Errors, &FileError{Index: 0, Path: p, Err: fmt.Errorf("stat: %w", err)})
			return nil
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			link, _ = os.Readlink(img.dir + "/" + p)
		}
		v.nodes[p] = Node{Mode: fi.Mode(), Size: fi.Size(), Linkname: link, Layer: 0}
		f := &File{Path: p, Info: fi, Linkname: link, Layer: layer, Final: true, HiddenBy: -1}
		if visit == nil {
			return nil
		}
		if !fi.Mode().IsRegular() {
			return visit(ctx, f, nil)
		}
		rc, err := fsys.Open(p)
		if err != nil {
			v.Errors = append(v.Errors, &FileError{Index: 0, Path: p, Err: fmt.Errorf("open: %w", err)})
			return nil
		}
		defer rc.Close()
		if err := visit(ctx, f, io.Reader(rc)); err != nil {
			return fmt.Errorf("visit %s: %w", p, err)
		}
		return nil
	})
}

// FS returns the root filesystem for dir: sources and nil for images,
// whose content is only available while walking.
func (img *Image) FS() fs.FS {
	if img.dir == "" {
		return nil
	}
	return os.DirFS(img.dir)
}
