package image

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Node is one path of the squashed filesystem.
type Node struct {
	Mode     fs.FileMode // type bits and permissions
	Size     int64       // bytes, for regular files
	Linkname string      // symlink or hard-link target, as stored
	Layer    int         // index of the layer that provides this version
}

// View is the squashed filesystem of an image after a walk: the paths a
// container started from the image would see, with the layer that
// provides each. It holds metadata only, never file contents.
type View struct {
	// Layers lists the image's layers, base first.
	Layers []Layer
	// Errors lists layers and paths the walk could not read.
	Errors []*FileError
	// Partial reports whether the walk missed content: a layer blob was
	// missing or corrupt, or the walk was cancelled. A partial view may
	// contain files that an unread upper layer deletes, and lack files
	// that an unread layer adds.
	Partial bool

	nodes map[string]Node
}

func newView(layers []Layer) *View {
	return &View{Layers: layers, nodes: make(map[string]Node)}
}

// Len returns the number of paths in the view.
func (v *View) Len() int { return len(v.nodes) }

// Lookup returns the node at p ("etc/os-release" or "/etc/os-release")
// without following symlinks.
func (v *View) Lookup(p string) (Node, bool) {
	n, ok := v.nodes[cleanLookup(p)]
	return n, ok
}

// Paths returns every path in the view, sorted.
func (v *View) Paths() []string {
	out := make([]string, 0, len(v.nodes))
	for p := range v.nodes {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// MaxSymlinkHops bounds symlink resolution, as Linux's MAXSYMLINKS does.
const MaxSymlinkHops = 40

// Resolve follows symlinks in every component of p inside the view and
// returns the final path and node. Targets are interpreted inside the
// image root: an absolute target or one with ".." never leaves it. A chain
// longer than MaxSymlinkHops gives ErrSymlinkLoop.
func (v *View) Resolve(p string) (string, Node, error) {
	hops := 0
	rest := strings.Split(cleanLookup(p), "/")
	cur := ""
	for len(rest) > 0 {
		part := rest[0]
		rest = rest[1:]
		if part == "" || part == "." {
			continue
		}
		next := path.Join(cur, part)
		if part == ".." {
			next = path.Dir(cur)
			if next == "." || next == "/" {
				next = ""
			}
			cur = next
			continue
		}
		n, ok := v.nodes[next]
		if !ok {
			if len(rest) == 0 {
				return "", Node{}, fmt.Errorf("resolve %s: %s: %w", p, next, fs.ErrNotExist)
			}
			// Layers need not list parent directories: a missing
			// intermediate component is an implicit directory.
			cur = next
			continue
		}
		if n.Mode&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		hops++
		if hops > MaxSymlinkHops {
			return "", Node{}, fmt.Errorf("resolve %s: %w", p, ErrSymlinkLoop)
		}
		target := n.Linkname
		if strings.HasPrefix(target, "/") {
			cur = ""
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	if cur == "" {
		return "", Node{Mode: fs.ModeDir | 0o755}, nil
	}
	return cur, v.nodes[cur], nil
}

// cleanLookup turns a user path into the view's key form.
func cleanLookup(p string) string {
	p = path.Clean("/" + p)
	return strings.TrimPrefix(p, "/")
}
