package checks_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/compliance"
)

var update = flag.Bool("update", false, "rewrite the .golden files of failing fixtures")

// fixtureOptions are the scan options fixtures are judged with.
var fixtureOptions = posture.Options{
	Registries: config.Registries{Trusted: []string{"registry.example.com/*"}},
	Images:     fixtureImages, // vulnerable_image_test.go
	// required-metadata's fixtures: an owner label, a contact e-mail.
	RequiredLabels:      []config.RequiredKey{{Key: "owner"}},
	RequiredAnnotations: []config.RequiredKey{{Key: "example.com/contact", Value: `[^@\s]+@[^@\s]+\.[a-z]+`}},
	Sandboxes:           config.Sandboxes{MaxCPU: "2", MaxMemory: "2Gi"},
}

func dirName(id string) string { return strings.ReplaceAll(id, "-", "_") }

func TestRegistryValid(t *testing.T) {
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(reg.Checks()), len(checks.All()); got != want {
		t.Errorf("registry has %d checks, want %d", got, want)
	}
}

// TestFixtures runs every check over its own fixtures: each pass/*.yaml
// yields no finding, each fail/*.yaml at least one, and the findings of a
// failing fixture match its .golden file (rewritten by -update).
func TestFixtures(t *testing.T) {
	reg, err := posture.NewRegistry(checks.All(), posture.Latest)
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, c := range reg.Checks() {
		known[dirName(c.ID)] = true
	}
	for _, d := range dirs {
		if !known[d.Name()] {
			t.Errorf("testdata/%s: no check with that ID (orphaned fixtures)", d.Name())
		}
	}
	for _, c := range reg.Checks() {
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			sc := posture.NewScanner(reg.Only(c.ID), nil)
			for _, verdict := range []string{"pass", "fail"} {
				files, _ := filepath.Glob(filepath.Join("testdata", dirName(c.ID), verdict, "*.yaml"))
				if len(files) == 0 {
					t.Errorf("no %s fixtures in testdata/%s/%s", verdict, dirName(c.ID), verdict)
				}
				for _, f := range files {
					inv, err := kube.Load(t.Context(), []string{f}, nil, kube.Limits{})
					if err != nil {
						t.Fatalf("load %s: %v", f, err)
					}
					opts := fixtureOptions
					opts.Cluster.Endpoint = fixtureEndpoints[filepath.ToSlash(f)] // endpoint_checks_test.go
					out, err := sc.Scan(t.Context(), inv, opts)
					if err != nil {
						t.Fatal(err)
					}
					switch {
					case verdict == "pass" && len(out.Findings) > 0:
						t.Errorf("%s: want no finding, got %d: %s", f, len(out.Findings), out.Findings[0].Message)
					case verdict == "fail" && len(out.Findings) == 0:
						t.Errorf("%s: want a finding, got none", f)
					case verdict == "fail":
						checkGolden(t, strings.TrimSuffix(f, ".yaml")+".golden", render(out.Findings))
					}
				}
			}
			goldens, _ := filepath.Glob(filepath.Join("testdata", dirName(c.ID), "*", "*.golden"))
			for _, g := range goldens {
				if _, err := os.Stat(strings.TrimSuffix(g, ".golden") + ".yaml"); err != nil || filepath.Base(filepath.Dir(g)) != "fail" {
					t.Errorf("%s: orphaned golden file", g)
				}
			}
		})
	}
}

// render prints findings one a line: position, severity, container, message.
func render(fs []finding.Finding) string {
	finding.Normalize(fs)
	var b strings.Builder
	for _, f := range fs {
		r := f.Resource
		fmt.Fprintf(&b, "%s:%d %s %s %s/%s", filepath.Base(r.File), r.Line, f.Severity, f.RuleID, r.Kind, r.Name)
		if r.Container != "" {
			fmt.Fprintf(&b, " container=%s", r.Container)
		}
		fmt.Fprintf(&b, "\n  %s\n", f.Message)
	}
	return b.String()
}

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
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestMappingNamesKnownChecks(t *testing.T) {
	m, err := compliance.Load()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range checks.All() {
		ids = append(ids, c.ID)
		// Reliability checks judge hygiene (a selector that matches its
		// own template, a variable defined once) that the security
		// frameworks do not name; they map only where one does.
		if len(m.ControlsOf(c.ID)) == 0 && c.Category != "reliability" {
			t.Errorf("check %s maps to no compliance control", c.ID)
		}
	}
	for _, id := range m.CheckIDs() {
		if !slices.Contains(ids, id) {
			t.Errorf("mapping.yaml names unknown check %q", id)
		}
	}
}
