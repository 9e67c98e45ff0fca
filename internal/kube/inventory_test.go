package kube

import (
	"os"
	"path/filepath"
	"testing"
)

// TestInputSize checks the input size a scan sizes its heap by: the files
// Load reads (manifests under directories, hidden directories skipped, a
// named file whatever its name; not a chart's templates), stdin and
// unreadable paths nothing, and
// no more counting once max is reached.
func TestInputSize(t *testing.T) {
	dir := t.TempDir()
	for name, size := range map[string]int{"a.yaml": 100, "b.JSON": 50, "c.bin": 1000, "sub/d.yml": 10, "sub/README.md": 7, ".git/e.yaml": 3, "chart/Chart.yaml": 20, "chart/templates/f.yaml": 5} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		paths []string
		max   int64
		want  int64
	}{
		{[]string{dir}, 1 << 20, 160},
		{[]string{filepath.Join(dir, "a.yaml"), "-"}, 1 << 20, 100},
		{[]string{filepath.Join(dir, "sub"), filepath.Join(dir, "nope.yaml")}, 1 << 20, 10},
		{[]string{filepath.Join(dir, "c.bin")}, 1 << 20, 1000},
		{[]string{dir, dir}, 120, 150}, // a.yaml, then b.JSON passes max: the walk stops
		{nil, 1 << 20, 0},
	}
	for _, tt := range tests {
		if got := InputSize(tt.paths, tt.max); got != tt.want {
			t.Errorf("InputSize(%q, %d) = %d, want %d", tt.paths, tt.max, got, tt.want)
		}
	}
}
