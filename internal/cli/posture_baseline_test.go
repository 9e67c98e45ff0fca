package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPostureScanBaseline: with --baseline, findings open in the earlier
// report are excepted as the baseline's and the gate judges only new ones,
// also after unrelated lines moved.
func TestPostureScanBaseline(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "app.yaml")
	baseline := filepath.Join(dir, "baseline.json")
	const web = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1.0
        securityContext: {privileged: true}
`
	write := func(name, s string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(manifest, web)
	code, out, errOut := run(t, "posture", "scan", "-o", "json", manifest)
	if code != ExitViolation {
		t.Fatalf("first scan: exit %d, want 1 (privileged): %s", code, errOut)
	}
	write(baseline, out)

	// The same scan's SARIF log serves as well.
	_, sarif, _ := run(t, "posture", "scan", "-o", "sarif", manifest)
	sarifBaseline := filepath.Join(dir, "baseline.sarif")
	write(sarifBaseline, sarif)
	if code, out, errOut := run(t, "posture", "scan", "--baseline", sarifBaseline, manifest); code != ExitOK || !strings.Contains(out, "0 open") {
		t.Fatalf("SARIF baseline: exit %d, want 0:\n%s%s", code, out, errOut)
	}

	// The same problems, lines moved: nothing new, the gate passes.
	write(manifest, "# moved down by a comment\n\n"+web)
	code, out, errOut = run(t, "posture", "scan", "--baseline", baseline, manifest)
	if code != ExitOK || !strings.Contains(out, "0 open") || !strings.Contains(errOut, "inBaseline") {
		t.Fatalf("same findings: exit %d, want 0:\n%s%s", code, out, errOut)
	}
	// A new workload with a high finding fails, and only it is open.
	write(manifest, web+"---\n"+strings.ReplaceAll(web, "name: web,", "name: api,"))
	code, out, _ = run(t, "posture", "scan", "-o", "json", "--baseline", baseline, manifest)
	if code != ExitViolation || !strings.Contains(out, `"owner": "baseline `+baseline+`"`) {
		t.Fatalf("new workload: exit %d, want 1 with the baseline's exceptions:\n%s", code, out)
	}
	var rep struct {
		Findings []struct {
			RuleID   string                `json:"ruleId"`
			Status   string                `json:"status"`
			Resource struct{ Name string } `json:"resource"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.RuleID != "posture/privileged" {
			continue
		}
		if want := map[string]string{"web": "excepted", "api": "open"}[f.Resource.Name]; f.Status != want {
			t.Errorf("privileged on %s: %s, want %s", f.Resource.Name, f.Status, want)
		}
	}

	// From another directory the paths differ, so does every ID: said.
	t.Chdir(dir)
	if _, _, errOut := run(t, "posture", "scan", "--baseline", baseline, "app.yaml"); !strings.Contains(errOut, "no finding of the baseline was found again") {
		t.Errorf("baseline of other paths: no warning:\n%s", errOut)
	}

	for _, tc := range []struct{ file, content, want string }{
		{"missing.json", "", "no such file"},
		{"table.txt", "Summary: 0 open", "not a JSON report"},
		{"other.json", `{"foo": 1}`, "not a Palisade report"},
		{"other.sarif", `{"runs": [{"results": [{"ruleId": "KSV001"}]}]}`, "not written by Palisade"},
	} {
		p := filepath.Join(dir, tc.file)
		if tc.content != "" {
			write(p, tc.content)
		}
		code, _, errOut := run(t, "posture", "scan", "--baseline", p, manifest)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("--baseline %s: exit %d, want 2 with %q: %s", tc.file, code, tc.want, errOut)
		}
	}
}
