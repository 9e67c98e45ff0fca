package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite golden files and the testdata copy of palisade.example.yaml")

// ignoreInternal drops what Parse adds for its own use (positions, parsed
// selectors) from comparisons.
var ignoreInternal = cmpopts.IgnoreUnexported(Config{}, Match{})

// checkGolden compares got with the golden file at path, or rewrites it
// under -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// orphans returns golden files under dir with no input beside them.
func orphans(t *testing.T, dir, inputExt string) []string {
	t.Helper()
	goldens, err := filepath.Glob(filepath.Join(dir, "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range goldens {
		if _, err := os.Stat(strings.TrimSuffix(g, ".golden") + inputExt); err != nil {
			out = append(out, g)
		}
	}
	return out
}

func date(s string) time.Time {
	t, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return t
}
