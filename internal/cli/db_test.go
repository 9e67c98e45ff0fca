package cli

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTestBundle(t *testing.T, path string, docs map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, doc := range docs {
		w, _ := zw.Create(name)
		w.Write([]byte(doc))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestDBCommands(t *testing.T) {
	t.Setenv("PALISADE_CACHE_DIR", t.TempDir())
	dir := t.TempDir()
	bundle := filepath.Join(dir, "Go-all.zip")
	writeTestBundle(t, bundle, map[string]string{
		"GO-2099-0001.json": `{"id":"GO-2099-0001","published":"2026-11-20T12:00:00Z","aliases":["CVE-2099-0001"],"affected":[{"package":{"ecosystem":"Go","name":"example.com/m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]}]}`,
		"BAD.json":          `{"id":`,
	})

	code, _, errOut := run(t, "db", "status")
	if code != ExitUsage || !strings.Contains(errOut, "no vulnerability database") {
		t.Errorf("status without database: exit %d, stderr %s", code, errOut)
	}

	code, out, errOut := run(t, "db", "import", bundle)
	if code != ExitOK {
		t.Fatalf("import: exit %d, stderr %s", code, errOut)
	}
	for _, want := range []string{"Go=1", "skipped: bundle " + bundle + " entry BAD.json", "1 malformed advisories skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = run(t, "db", "status")
	if code != ExitOK || !strings.Contains(out, "Go") || !strings.Contains(out, "2026-11-20") || !strings.Contains(out, "Go-all.zip") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, "db", "status", "-o", "json")
	var s struct {
		Skipped    int
		Ecosystems []struct {
			Name       string
			Advisories int
			Age        string
		}
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &s) != nil || len(s.Ecosystems) != 1 || s.Ecosystems[0].Advisories != 1 || s.Ecosystems[0].Age != "5d" || s.Skipped != 1 {
		t.Errorf("status -o json: exit %d, %+v\n%s", code, s, out)
	}

	// version sees the database too.
	if code, out, _ := run(t, "version"); code != ExitOK || strings.Contains(out, "advisory db: none") {
		t.Errorf("version after import: %s", out)
	}

	notZip := filepath.Join(dir, "not.zip")
	os.WriteFile(notZip, []byte("nope"), 0o644)
	for name, args := range map[string][]string{
		"missing file": {"db", "import", filepath.Join(dir, "missing.zip")},
		"not a zip":    {"db", "import", notZip},
		"strict":       {"db", "import", "--strict", bundle},
		"sarif":        {"db", "status", "-o", "sarif"},
		"no args":      {"db", "import"},
	} {
		if code, _, errOut := run(t, args...); code != ExitUsage {
			t.Errorf("%s: exit %d, want %d; stderr %s", name, code, ExitUsage, errOut)
		}
	}
	// The failed imports left the database as it was.
	if code, out, _ := run(t, "db", "status"); code != ExitOK || !strings.Contains(out, "Go") {
		t.Errorf("status after failed imports: exit %d\n%s", code, out)
	}
}
