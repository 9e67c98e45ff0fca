package internal_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/palisade-sec/palisade/"

// forbidden lists, per package prefix, import prefixes it must not reach
// (directly or transitively). Dependencies point downward, as DESIGN.md
// says: capabilities never import cli or server, and the shared layers
// (finding, config, store) never import a capability.
var forbidden = map[string][]string{
	"internal/finding":  {"internal/cli", "internal/server", "internal/store", "internal/config", "internal/kubelab"},
	"internal/config":   {"internal/cli", "internal/server", "internal/store", "internal/kubelab"},
	"internal/store":    {"internal/cli", "internal/server", "internal/kubelab"},
	"internal/server":   {"internal/cli", "internal/kubelab"},
	"internal/kubelab":  {"internal/cli", "internal/server", "internal/store"},
	"internal/paths":    {"internal/"},
	"internal/parallel": {"internal/"},
	// Test helpers must never end up in the binary.
	"cmd/palisade": {"internal/pgtest", "internal/kubelab/kubelabtest", "internal/store/storetest"},
}

type pkg struct {
	ImportPath string
	Doc        string
	Deps       []string
	Name       string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func TestDependencyDirection(t *testing.T) {
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, module)
		for prefix, bans := range forbidden {
			if rel != prefix && !strings.HasPrefix(rel, prefix+"/") {
				continue
			}
			for _, dep := range p.Deps {
				drel, ok := strings.CutPrefix(dep, module)
				if !ok {
					continue
				}
				for _, ban := range bans {
					if strings.HasPrefix(drel, ban) && !strings.HasPrefix(drel, rel) {
						t.Errorf("%s imports %s (directly or not); %s must not depend on %s", rel, drel, prefix, ban)
					}
				}
			}
		}
	}
}

func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.Doc == "" {
			t.Errorf("package %s has no package doc comment", p.ImportPath)
		}
	}
}
