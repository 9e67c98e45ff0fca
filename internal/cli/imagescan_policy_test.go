package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/palisade-sec/palisade/internal/image/imagetest"
	"github.com/palisade-sec/palisade/internal/inventory/inventorytest"
	"github.com/palisade-sec/palisade/internal/sharedtest"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

// runAt runs the command line at the given time.
func runAt(t *testing.T, now time.Time, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(string) string { return "" },
		Now:    func() time.Time { return now },
	}
	code := Execute(context.Background(), args, env)
	return code, stdout.String(), stderr.String()
}

// TestImageScanPolicy scans builds of one repository in a real registry
// with the real Go advisories and a real SQLite store, at injected times:
// CVE-2022-32149 first seen on day 0 fails its 30-day SLA on day 31 under
// lenient count limits; the verdict says so with the date, the table ends
// with it, JSON carries the due date, and the ageing database is a warning
// only. Without a store the verdict says SLAs were not evaluated. Denied
// packages fail the gate; the deprecated baseline section warns.
func TestImageScanPolicy(t *testing.T) {
	bundle := filepath.Join("..", "..", "..", "shared", "vulndb", "Go-all.zip")
	if _, err := os.Stat(bundle); err != nil {
		sharedtest.Missing(t, "real advisory bundles not found: %v", err)
	}
	day0 := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	day31 := day0.Add(31 * 24 * time.Hour)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "osv.db")
	if _, err := vulndb.Import(t.Context(), dbPath, []string{bundle}, vulndb.ImportOptions{Now: func() time.Time { return day0.Add(-time.Hour) }}); err != nil {
		t.Fatal(err)
	}
	bin := inventorytest.BuildVulnerableGo(t)
	reg := imagetest.Registry(t)
	build := func(tag, note string) string {
		img := imagetest.Image(t, v1.Config{User: "10001"},
			imagetest.Step{CreatedBy: "COPY server /app/server", Layer: imagetest.Layer(t, fstest.MapFS{"app/server": {Data: bin, Mode: 0o755}})},
			imagetest.Step{CreatedBy: "COPY NOTE /app/NOTE", Layer: imagetest.Layer(t, fstest.MapFS{"app/NOTE": {Data: []byte(note), Mode: 0o644}})},
		)
		return imagetest.Push(t, reg+"/shop/web:"+tag, img)
	}
	ref1, ref2 := build("1.0", "first build"), build("1.1", "second build")
	writeConfig := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Count limits let everything through: only SLAs can fail the image.
	// The Go advisories carry no severity, hence the unknown SLA.
	lenient := writeConfig("lenient.yaml", `imagePolicy:
  maxVulnerabilities: {critical: -1, high: -1, unknown: -1}
  noSecrets: false
  maxDBAge: 0
  warnDBAge: 2d
  sla: {unknown: 30d}
`)
	storePath := filepath.Join(dir, "store.db")
	scan := func(now time.Time, cfg, ref string, extra ...string) (int, string, string) {
		t.Helper()
		args := append([]string{"--config", cfg, "image", "scan", "--db", dbPath, "--insecure-registry"}, extra...)
		return runAt(t, now, append(args, ref)...)
	}

	code, out, errOut := scan(day0, lenient, ref1, "--store", storePath)
	if code != ExitOK || !strings.Contains(out, "PASS") || strings.Contains(out+errOut, "SLAs were not evaluated") {
		t.Fatalf("day 0: exit %d\n%s\n%s", code, out, errOut)
	}

	// Day 31, the next build: overdue, with the date and repository.
	code, out, errOut = scan(day31, lenient, ref2, "--store", storePath)
	repo := strings.TrimSuffix(ref2, ":1.1")
	wantReason := "  - CVE-2022-32149 (unknown) first seen 2026-10-01 on " + repo + ", 31 days ago, over the 30-day SLA\n"
	if code != ExitViolation {
		t.Fatalf("day 31: exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	tail := out[strings.LastIndex(out, "\nFAIL: "):]
	// The real Go advisories hold a second advisory for x/text 0.3.7.
	if !strings.HasPrefix(tail, "\nFAIL: 2 reason(s)") || strings.Count(tail, "over the 30-day SLA") != 2 || !strings.Contains(tail, wantReason) || !strings.Contains(tail, "  ! the advisory database is 31 days old, more than 2d") {
		t.Errorf("day 31 verdict:\n%s\nwant the reason %q and the database warning", tail, wantReason)
	}
	if !strings.Contains(errOut, "palisade: warning: the advisory database is 31 days old") {
		t.Errorf("day 31: database warning not on stderr:\n%s", errOut)
	}

	// JSON carries the due date; the verdict goes to stderr.
	code, out, errOut = scan(day31, lenient, ref2, "--store", storePath, "-o", "json")
	var doc struct {
		Findings []struct {
			RuleID   string
			Evidence []struct{ Name, Value string }
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != ExitViolation || !strings.Contains(errOut, strings.TrimSpace(wantReason[4:])) {
		t.Fatalf("json: exit %d, %v\n%s", code, err, errOut)
	}
	due := ""
	for _, f := range doc.Findings {
		for _, e := range f.Evidence {
			if f.RuleID == "CVE-2022-32149" && e.Name == "slaDue" {
				due = e.Value
			}
		}
	}
	if due != "2026-10-31T12:00:00Z" {
		t.Errorf("json slaDue of CVE-2022-32149 = %q, want 2026-10-31T12:00:00Z", due)
	}

	// An exception with an owner and an expiry accepts the overdue risk.
	excepted := writeConfig("excepted.yaml", mustRead(t, lenient)+`exceptions:
  - match: {image: "*/shop/web"}
    owner: web-team
    reason: upgrade tracked in WEB-12
    expires: 2026-11-15
`)
	if code, out, errOut := scan(day31, excepted, ref2, "--store", storePath); code != ExitOK {
		t.Errorf("unexpired exception: exit %d\n%s\n%s", code, out, errOut)
	}

	// No store: not evaluated, and the verdict says so.
	code, out, errOut = scan(day31, lenient, ref2)
	if code != ExitOK || !strings.Contains(out, "  ! SLAs were not evaluated: no store keeps first-seen dates") {
		t.Errorf("no store: exit %d\n%s\n%s", code, out, errOut)
	}

	// Denied packages fail the gate with the reason; an unknown version
	// order or a missing reason is a configuration error (exit 2).
	denied := writeConfig("denied.yaml", `imagePolicy:
  maxVulnerabilities: {critical: -1, high: -1, unknown: -1}
  noSecrets: false
  maxDBAge: 0
  deniedPackages:
    - name: golang.org/x/text
      ecosystem: Go
      versions: "<0.3.8"
      reason: CVE-2022-32149 denial of service; use 0.3.8 or later
`)
	code, out, errOut = scan(day0, denied, ref1)
	if code != ExitViolation || !strings.Contains(out, "  - denied package golang.org/x/text 0.3.7 (Go): CVE-2022-32149 denial of service; use 0.3.8 or later\n") || !strings.Contains(out, "image/denied-package") {
		t.Errorf("denied package: exit %d\n%s\n%s", code, out, errOut)
	}
	bad := writeConfig("bad.yaml", "imagePolicy:\n  deniedPackages:\n    - {name: x, versions: \"<1\"}\n")
	if code, _, errOut := scan(day0, bad, ref1); code != ExitUsage || !strings.Contains(errOut, "imagePolicy.deniedPackages[0].versions: versions need an ecosystem") || !strings.Contains(errOut, "deniedPackages[0].reason: missing") {
		t.Errorf("bad denied package: exit %d\n%s", code, errOut)
	}

	// The old section name still works, with a warning naming the line.
	old := writeConfig("old.yaml", "log: {level: error}\nbaseline:\n  maxVulnerabilities: {unknown: -1}\n  maxDBAge: 0\n  noSecrets: false\n")
	code, _, errOut = scan(day0, old, ref1)
	if code != ExitOK || !strings.Contains(errOut, "palisade: warning: "+old+":2:1: baseline: deprecated section name; rename it to imagePolicy") {
		t.Errorf("baseline alias: exit %d\n%s", code, errOut)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
