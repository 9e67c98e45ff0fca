package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/policy/policytest"
)

// suiteDir copies examples/policies into a temporary directory with the
// suite file replaced by suite (when not empty) and extra files added.
func suiteDir(t *testing.T, suite string, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "examples", "policies")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if suite != "" {
		extra[policytest.FileName] = suite
	}
	for name, body := range extra {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const suiteHead = "apiVersion: palisade.dev/v1alpha1\nkind: PolicyTest\npolicies: [no-latest-tag.yaml]\nresources: [manifests.yaml]\n"

func TestPolicyTest(t *testing.T) {
	example := filepath.Join("..", "..", "examples", "policies")
	tests := []struct {
		name string
		dir  string
		args []string
		code int
		want []string
	}{
		{"the shipped example passes", example, nil, ExitOK, []string{"15 results: 15 as expected, 0 mismatched", "acme/pinned-images", "lp/no-nodeport-loadbalancer"}},
		{"a wrong expectation fails", suiteDir(t, suiteHead+"results:\n- {policy: acme/pinned-images, resources: [legacy], result: pass}\n", map[string]string{}), nil, ExitViolation,
			[]string{"MISMATCH", "container app (docker.io/acme/legacy:latest)"}},
		{"unknown field in the suite", suiteDir(t, suiteHead+"results:\n- {policy: acme/pinned-images, resources: [legacy], result: pass, expect: fail}\n", map[string]string{}), nil, ExitUsage, nil},
		{"unknown resource", suiteDir(t, suiteHead+"results:\n- {policy: acme/pinned-images, resources: [nothere], result: pass}\n", map[string]string{}), nil, ExitUsage, nil},
		{"ambiguous resource", suiteDir(t, suiteHead+"results:\n- {policy: acme/pinned-images, resources: [web], result: pass}\n", map[string]string{}), nil, ExitUsage, nil},
		{"broken policy", suiteDir(t, "", map[string]string{"no-latest-tag.yaml": "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nmetadata: {name: x}\nspec:\n  validations:\n  - expression: object.(\n"}), nil, ExitUsage, nil},
		{"no suite", t.TempDir(), nil, ExitUsage, nil},
		{"sarif is refused", example, []string{"-o", "sarif"}, ExitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"policy", "test", tt.dir}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestPolicyTestErrorsNameTheFile(t *testing.T) {
	dir := suiteDir(t, "", map[string]string{"no-latest-tag.yaml": "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nmetadata: {name: x}\nspec:\n  validations:\n  - expression: object.(\n"})
	code, _, errOut := run(t, "policy", "test", dir)
	if code != ExitUsage || !strings.Contains(errOut, "no-latest-tag.yaml:6: policy x: validations[0].expression: compile CEL") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestPolicyTestJSON(t *testing.T) {
	code, out, errOut := run(t, "policy", "test", "-o", "json", filepath.Join("..", "..", "examples", "policies"))
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Results []policytest.Outcome
		Passed  int
		Failed  int
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Failed != 0 || doc.Passed != len(doc.Results) || len(doc.Results) != 15 {
		t.Fatalf("passed %d failed %d of %d", doc.Passed, doc.Failed, len(doc.Results))
	}
	if r := doc.Results[0]; r.Source == "" || !strings.Contains(r.Source, "manifests.yaml:") {
		t.Errorf("result without the manifest's file:line: %+v", r)
	}
}

func TestPolicyList(t *testing.T) {
	code, out, errOut := run(t, "policy", "list")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, id := range []string{"lp/no-privileged", "lp/run-as-non-root", "lp/allow-privilege-escalation-false", "lp/drop-all-capabilities",
		"lp/seccomp-profile", "lp/mandatory-security-context", "lp/no-default-service-account", "lp/automount-token-off",
		"lp/resource-limits", "lp/no-host-path", "lp/no-host-namespaces", "lp/no-nodeport-loadbalancer"} {
		if !strings.Contains(out, id) {
			t.Errorf("list lacks %s", id)
		}
	}
	code, out, _ = run(t, "policy", "list", "-o", "json")
	var entries []struct{ ID, Remediation string }
	if code != ExitOK || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 12 || entries[0].Remediation == "" {
		t.Fatalf("json list: exit %d, %d entries", code, len(entries))
	}
}
