package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// findBinaries returns the directory holding initdb and postgres of one
// installation: the one initdb in PATH belongs to, else the highest version
// matching glob (Debian installs each major version in
// /usr/lib/postgresql/N/bin, outside PATH).
func findBinaries(lookPath func(string) (string, error), glob string) (string, error) {
	var dirs []string
	if p, err := lookPath("initdb"); err == nil {
		// Resolve symlinks: /usr/local/bin/initdb → /usr/lib/postgresql/15/bin.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	matches, _ := filepath.Glob(glob) // the pattern is constant and valid
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) > version(matches[j]) })
	dirs = append(dirs, matches...)
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w (searched %s)", ErrNoPostgres, strings.Join(append([]string{"PATH"}, dirs...), ", "))
}

// version returns the major version in a path like
// /usr/lib/postgresql/15/bin, or -1.
func version(dir string) int {
	v, err := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	if err != nil {
		return -1
	}
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
