package nodecheck

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// materialize copies testdata/<name> into a temporary root and applies the
// permissions its MODES file lists: git keeps file contents, not modes.
func materialize(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("testdata", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "MODES" {
			return nil
		}
		target := filepath.Join(dst, rel)
		// Chmod after creating: the umask must not change the goldens.
		if d.IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			return os.Chmod(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			return err
		}
		return os.Chmod(target, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(src, "MODES"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		p, m, _ := strings.Cut(line, " ")
		mode, err := strconv.ParseUint(strings.TrimSpace(m), 8, 32)
		if err != nil {
			t.Fatalf("MODES %q: %v", line, err)
		}
		target := filepath.Join(dst, p)
		// Git keeps no empty directories: a MODES path missing from the
		// checkout is an empty directory of the fake node.
		if _, err := os.Stat(target); errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(target, fs.FileMode(mode)); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// me is the current user: files the test creates are owned by it, so it
// stands for root:root (and etcd:etcd where a case says so).
func me() *Owner { return &Owner{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())} }

// render is the golden form of an output: what a reviewer checks against
// the benchmark, one line per finding.
func render(out *Output) string {
	var b strings.Builder
	fmt.Fprintf(&b, "node %q components:", out.Node.Name)
	for _, c := range components {
		if comp := out.Node.Components[c]; comp != nil {
			fmt.Fprintf(&b, " %s(%s)", c, comp.Source)
		}
	}
	b.WriteString("\n")
	evaluated := 0
	for _, r := range out.Coverage.Rules {
		for _, s := range r.Scopes {
			evaluated += s.Evaluated
		}
	}
	fmt.Fprintf(&b, "rules evaluated: %d, evaluations: %d, findings: %d\n", len(out.Coverage.Rules), evaluated, len(out.Findings))
	for _, e := range out.Errors {
		fmt.Fprintf(&b, "error: %v\n", e)
	}
	for _, f := range out.Findings {
		cis := "-"
		if len(f.Controls) > 0 {
			cis = f.Controls[0].ID
		}
		fmt.Fprintf(&b, "%-6s %-6s %s: %s\n", f.Severity, cis, f.RuleID, f.Message)
	}
	return b.String()
}

func TestNodes(t *testing.T) {
	other := &Owner{UID: uint32(os.Getuid()) + 1000, GID: uint32(os.Getgid()) + 1000}
	for _, tc := range []struct {
		name string
		etcd *Owner
	}{
		{"hardened", me()},
		{"weak", nil}, // no etcd user in /etc/passwd
		{"worker", other},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := materialize(t, tc.name)
			out, err := Run(t.Context(), All(), Options{Root: root, RootOwner: me(), EtcdOwner: tc.etcd})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(render(out), root, "<root>")
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// TestGoldensHaveCases fails on orphaned golden files.
func TestGoldensHaveCases(t *testing.T) {
	gs, _ := filepath.Glob("testdata/*.golden")
	for _, g := range gs {
		if _, err := os.Stat(strings.TrimSuffix(g, ".golden")); err != nil {
			t.Errorf("orphaned golden %s: no testdata/%s tree", g, strings.TrimSuffix(filepath.Base(g), ".golden"))
		}
	}
}

// TestRegistry keeps the check list sound: unique stable IDs, one check per
// CIS control it names (file checks of one control share it), known
// components, and the fields a finding needs.
func TestRegistry(t *testing.T) {
	ids := map[string]bool{}
	idRE := regexp.MustCompile(`^node/[a-z0-9]+(-[a-z0-9]+)*$`)
	cisRE := regexp.MustCompile(`^[124](\.\d+){1,2}$`)
	known := map[string]bool{ControlPlane: true, APIServer: true, ControllerManager: true, Scheduler: true, Etcd: true, Kubelet: true, KubeProxy: true}
	for _, ch := range All() {
		if !idRE.MatchString(ch.ID) || ids[ch.ID] {
			t.Errorf("check ID %q is malformed or repeated", ch.ID)
		}
		ids[ch.ID] = true
		if ch.CIS != "" && !cisRE.MatchString(ch.CIS) {
			t.Errorf("%s: CIS control %q", ch.ID, ch.CIS)
		}
		if !known[ch.Component] || ch.Eval == nil || ch.Title == "" || ch.Remediation == "" {
			t.Errorf("%s: component %q, eval set %v, title %q, remediation %q", ch.ID, ch.Component, ch.Eval != nil, ch.Title, ch.Remediation)
		}
	}
}

// TestRunWithoutComponents: a tree with no Kubernetes component (a
// machine that is no node, a wrong --root) is an error, not a clean report.
func TestRunWithoutComponents(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "hostname"), []byte("laptop\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := Run(t.Context(), All(), Options{Root: root})
	if !errors.Is(err, ErrNoComponents) || !strings.Contains(err.Error(), root) {
		t.Errorf("Run = %v, %v; want ErrNoComponents naming %s", out, err, root)
	}
}
