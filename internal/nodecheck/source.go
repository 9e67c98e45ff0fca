package nodecheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// source is where a Node's file facts come from: the node's filesystem
// below a root (fsSource), or what a node collector gathered (factsSource).
// The checks read, stat and list files only through it, so both give the
// same verdicts from the same rules.
type source interface {
	// read returns a file's contents: fs.ErrNotExist when the file does not
	// exist, errNotCollected when the source does not know.
	read(p string) ([]byte, error)
	// stat returns a file's facts, (nil, nil) when it does not exist; a
	// is what the caller judges, which a collector may have gathered for
	// some files and not others.
	stat(p string, a aspect) (*fileInfo, error)
	// walk returns the paths of every file and directory under dir (itself
	// included) that carry aspect a, or nil when dir does not exist.
	walk(ctx context.Context, dir string, a aspect) ([]string, error)
	// unitFiles returns kubelet.service and its drop-ins, in systemd's
	// reading order.
	unitFiles() ([]string, error)
	// located returns where the source found the file kept at path p on a
	// kubeadm node, or named by a flag (role "kubelet --client-ca-file"),
	// ok false when it knows no other place.
	located(p string) (string, bool)
}

// aspect is what a file check judges.
type aspect int

const (
	aspectMode aspect = iota
	aspectOwner
)

func (a aspect) String() string {
	if a == aspectOwner {
		return "ownership"
	}
	return "permissions"
}

// errNotCollected marks a fact the collector did not gather: the check is
// not evaluated, neither a pass nor a finding.
var errNotCollected = errors.New("not collected")

// fileInfo is a stat of a node file.
type fileInfo struct {
	Path  string
	Mode  fs.FileMode
	Owner Owner
	IsDir bool
	// Names is "user:group" as the collector resolved them on the node
	// ("" when it gave none); numeric is false when it gave only names.
	Names   string
	numeric bool
}

// fsSource reads the node's filesystem below root.
type fsSource struct{ root string }

// path returns the host path of a node path.
func (s fsSource) path(p string) string {
	return filepath.Join(s.root, filepath.FromSlash(path.Clean("/"+p)))
}

func (s fsSource) read(p string) ([]byte, error) { return os.ReadFile(s.path(p)) }

func (fsSource) located(string) (string, bool) { return "", false }

// stat returns the node file's mode and numeric owner; a missing file is
// (nil, nil).
func (s fsSource) stat(p string, _ aspect) (*fileInfo, error) {
	fi, err := os.Stat(s.path(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", p, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("stat %s: no owner information on this platform", p)
	}
	return &fileInfo{Path: p, Mode: fi.Mode().Perm(), Owner: Owner{UID: st.Uid, GID: st.Gid}, IsDir: fi.IsDir(), numeric: true}, nil
}

// walk returns the node paths of every file and directory under dir
// (itself included), or nil when dir does not exist.
func (s fsSource) walk(ctx context.Context, dir string, _ aspect) ([]string, error) {
	base := s.path(dir)
	var out []string
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == base && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		out = append(out, path.Join(dir, filepath.ToSlash(rel)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", dir, err)
	}
	return out, nil
}

func (s fsSource) unitFiles() ([]string, error) {
	var files, dropins []string
	for _, dir := range kubeletUnitDirs {
		if _, err := os.Stat(s.path(dir + "/kubelet.service")); err == nil {
			files = append(files, dir+"/kubelet.service")
		}
		ents, _ := os.ReadDir(s.path(dir + "/kubelet.service.d"))
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".conf") && !e.IsDir() {
				dropins = append(dropins, dir+"/kubelet.service.d/"+e.Name())
			}
		}
	}
	// Drop-ins apply in file-name order across directories.
	sort.SliceStable(dropins, func(i, j int) bool { return path.Base(dropins[i]) < path.Base(dropins[j]) })
	return append(files, dropins...), nil
}
