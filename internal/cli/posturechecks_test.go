package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/posture/checks"
)

// checksDoc is the check catalog `posture checks --markdown` writes.
const checksDoc = "../../docs/posture-checks.md"

// TestPostureChecksDoc keeps docs/posture-checks.md equal to what the
// command writes: a check added, retitled or remapped changes the doc in the
// same commit (go test ./internal/cli -run TestPostureChecksDoc -update).
func TestPostureChecksDoc(t *testing.T) {
	code, out, errOut := run(t, "posture", "checks", "--markdown")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if *updateGolden {
		if err := os.WriteFile(checksDoc, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(checksDoc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), out); diff != "" {
		t.Errorf("%s is stale (run with -update) (-file +command):\n%s", checksDoc, diff)
	}
}

func TestPostureChecksList(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"table", []string{"posture", "checks"}, ExitOK, []string{"ID", "pss-baseline", "control-plane-flags", "checks. Rule IDs"}},
		{"pinned to 1 leaves later checks out", []string{"posture", "checks", "--checks-version", "1", "-o", "json"}, ExitOK, []string{`"id": "privileged"`}},
		{"sarif is refused", []string{"posture", "checks", "-o", "sarif"}, ExitUsage, []string{"write table or json"}},
		{"no arguments", []string{"posture", "checks", "extra"}, ExitUsage, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}
	code, out, _ := run(t, "posture", "checks", "-o", "json")
	if code != ExitOK {
		t.Fatal(code)
	}
	var infos []checkInfo
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatal(err)
	}
	if len(infos) != len(checks.All()) {
		t.Errorf("listed %d checks, want %d", len(infos), len(checks.All()))
	}
	for _, c := range infos {
		// Reliability checks map to a control only where a framework
		// names what they judge (TestMappingNamesKnownChecks).
		if len(c.Versions) == 0 || c.Rationale == "" || c.Remediation == "" || (len(c.Controls) == 0 && c.Category != "reliability") {
			t.Errorf("%s: incomplete entry %+v", c.ID, c)
		}
	}
	_, pinned, _ := run(t, "posture", "checks", "--checks-version", "3", "-o", "json")
	if strings.Contains(pinned, `"id": "rbac-secrets-write"`) {
		t.Errorf("a check new in version 4 is listed when pinned to 3")
	}
}
