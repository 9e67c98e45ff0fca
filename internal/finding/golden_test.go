package finding

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (and remove orphaned ones)")

// goldenFormat is one rendering compared with a golden file
// testdata/<case>.<name>.golden.
type goldenFormat struct {
	name   string
	format Format
	opts   WriteOptions
}

func goldenFormats() []goldenFormat {
	return []goldenFormat{
		{"table", FormatTable, WriteOptions{}},
		{"table-color", FormatTable, WriteOptions{Color: true}},
		{"json", FormatJSON, WriteOptions{}},
		{"sarif", FormatSARIF, WriteOptions{}},
		{"junit", FormatJUnit, WriteOptions{}},
		{"html", FormatHTML, WriteOptions{}},
	}
}

func goldenPath(caseName, formatName string) string {
	return filepath.Join("testdata", caseName+"."+formatName+".golden")
}

func TestGolden(t *testing.T) {
	expected := map[string]bool{}
	for _, tc := range testCases() {
		for _, gf := range goldenFormats() {
			path := goldenPath(tc.name, gf.name)
			expected[path] = true
			t.Run(tc.name+"/"+gf.name, func(t *testing.T) {
				t.Parallel()
				var buf bytes.Buffer
				if err := Write(&buf, gf.format, tc.report, gf.opts); err != nil {
					t.Fatalf("Write: %v", err)
				}
				compareGolden(t, path, buf.Bytes())
			})
		}
	}

	// The expected set comes from the case list, not from the subtests that
	// ran, so this check holds under -run filters too.
	found, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range found {
		if expected[path] {
			continue
		}
		if *update {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			t.Logf("removed orphaned golden file %s", path)
			continue
		}
		t.Errorf("orphaned golden file %s: no test case compares it (delete it or run go test ./internal/finding -update)", path)
	}
}

// compareGolden compares got with the golden file at path, or rewrites the
// file under -update.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing golden file %s: run go test ./internal/finding -update", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("output differs from %s (-want +got); run go test ./internal/finding -update if the change is intended:\n%s", path, diff)
	}
}

// TestGoldenFilesAreOutputs guards the harness itself: every case renders
// in every golden format with a distinct file name.
func TestGoldenFilesAreOutputs(t *testing.T) {
	var names []string
	for _, tc := range testCases() {
		if strings.ContainsAny(tc.name, "./") {
			t.Errorf("case name %q must not contain . or /", tc.name)
		}
		for _, gf := range goldenFormats() {
			names = append(names, goldenPath(tc.name, gf.name))
		}
	}
	slices.Sort(names)
	if c := slices.Compact(slices.Clone(names)); len(c) != len(names) {
		t.Errorf("duplicate golden file names: %v", names)
	}
}
