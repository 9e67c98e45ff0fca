package pgtest

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// unprivilegedUser is who runs PostgreSQL when the tests run as root. It
// exists on every Debian system; creating a user at test time is not an
// option.
const unprivilegedUser = "nobody"

// credential is the user initdb and postgres run as; nil means ourselves.
type credential struct {
	uid, gid uint32
}

// runAs returns the user to run PostgreSQL as: nil when we are not root,
// "nobody" when we are, since postgres refuses to start as root.
func runAs() (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(unprivilegedUser)
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as %s: %w", unprivilegedUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("uid of %s: %w", unprivilegedUser, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("gid of %s: %w", unprivilegedUser, err)
	}
	return &credential{uid: uint32(uid), gid: uint32(gid)}, nil
}

// sysProcAttr returns the process attributes that run a child as c.
func (c *credential) sysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if c != nil {
		// Groups empty: setgroups drops root's supplementary groups too.
		attr.Credential = &syscall.Credential{Uid: c.uid, Gid: c.gid}
	}
	return attr
}

// makeBaseDir creates the server's private directory, owned by the user
// that runs the server. t.TempDir is no good for this as root: its parents
// are 0700 root directories that nobody cannot enter. The directory goes in
// os.TempDir unless the server user cannot reach it there, then in /tmp.
func makeBaseDir(c *credential) (string, error) {
	parent := os.TempDir()
	if c != nil && !traversable(parent) {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "pgtest-")
	if err != nil {
		return "", fmt.Errorf("create PostgreSQL directory: %w", err)
	}
	if c != nil {
		if err := os.Chown(dir, int(c.uid), int(c.gid)); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("hand PostgreSQL directory to %s: %w", unprivilegedUser, err)
		}
	}
	return dir, nil
}

// traversable reports whether every directory from / to dir can be entered
// by any user.
func traversable(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}
