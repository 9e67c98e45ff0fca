package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/palisade-sec/palisade/internal/sharedtest"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/palisade-sec/palisade/internal/image/imagetest"
	"github.com/palisade-sec/palisade/internal/inventory/inventorytest"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

// TestImageScanGateAndAttest scans a real image holding a Go binary built
// against golang.org/x/text v0.3.7 with the real Go advisories: the default
// baseline fails it on CVE-2022-32149; a baseline that tolerates high
// vulnerabilities passes it, attests it, and image verify accepts it.
func TestImageScanGateAndAttest(t *testing.T) {
	bundle := filepath.Join("..", "..", "..", "shared", "vulndb", "Go-all.zip")
	if _, err := os.Stat(bundle); err != nil {
		sharedtest.Missing(t, "real advisory bundles not found: %v", err)
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "osv.db")
	if _, err := vulndb.Import(t.Context(), dbPath, []string{bundle}, vulndb.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	bin := inventorytest.BuildVulnerableGo(t)
	img := imagetest.Image(t, v1.Config{User: "10001"},
		imagetest.Step{
			CreatedBy: "COPY server /app/server",
			Layer:     imagetest.Layer(t, fstest.MapFS{"app/server": {Data: bin, Mode: 0o755}}),
		},
		// A secret added and then deleted is still in the image.
		imagetest.Step{CreatedBy: "COPY .env /app/.env", Layer: imagetest.Layer(t, fstest.MapFS{"app/.env": {Data: []byte("AWS_ACCESS_KEY_ID=AKIA4HKQ7TNBZX2PMWRY\n"), Mode: 0o600}})},
		imagetest.Step{CreatedBy: "RUN rm /app/.env", Layer: imagetest.Layer(t, fstest.MapFS{"app/.wh..env": {Data: nil, Mode: 0o600}})},
	)
	ref := imagetest.Push(t, imagetest.Registry(t)+"/shop/server:1.0", img)

	code, out, errOut := run(t, "image", "scan", "--db", dbPath, "--insecure-registry", ref)
	if code != ExitViolation {
		t.Fatalf("default baseline: exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"CVE-2022-32149", "golang.org/x/text", "0.3.8", "FAIL:", "unknown vulnerabilities, more than the allowed 0", "secret/aws-access-key", "secret(s) in the image"} {
		if !strings.Contains(out, want) {
			t.Errorf("scan output lacks %q:\n%s", want, out)
		}
	}

	lenient := filepath.Join(dir, "palisade.yaml")
	if err := os.WriteFile(lenient, []byte("baseline:\n  noSecrets: false\n  maxVulnerabilities: {critical: -1, high: -1, unknown: -1}\n  maxDBAge: 0s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(dir, "ci")
	if code, _, errOut := run(t, "key", "generate", "--output-prefix", prefix); code != ExitOK {
		t.Fatal(errOut)
	}
	code, out, errOut = run(t, "--config", lenient, "image", "scan", "--db", dbPath, "--insecure-registry", "--attest", "--key", prefix+".key", ref)
	if code != ExitOK || !strings.Contains(out, "PASS") || !strings.Contains(errOut, "attestation stored at") {
		t.Fatalf("lenient baseline: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, "image", "verify", "--insecure-registry", "--key", prefix+".pub", ref)
	if code != ExitOK || !strings.Contains(out, "verdict:    pass") {
		t.Fatalf("verify after attest: exit %d\n%s\n%s", code, out, errOut)
	}

	// JSON output stays a clean document; the verdict goes to stderr.
	code, out, errOut = run(t, "image", "scan", "--db", dbPath, "--insecure-registry", "-o", "json", ref)
	if code != ExitViolation || !strings.HasPrefix(strings.TrimSpace(out), "{") || !strings.Contains(errOut, "FAIL") {
		t.Errorf("json: exit %d, stdout starts %q, stderr %q", code, out[:min(len(out), 40)], errOut)
	}

	for _, tt := range []struct{ name, ref string }{
		{"bad reference", "oci:"},
		{"missing layout", "oci:" + filepath.Join(dir, "nope")},
	} {
		if code, _, _ := run(t, "image", "scan", "--db", dbPath, tt.ref); code != ExitUsage {
			t.Errorf("%s: exit %d, want 2", tt.name, code)
		}
	}
	if code, _, errOut := run(t, "image", "scan", "--db", filepath.Join(dir, "none.db"), ref); code != ExitUsage || !strings.Contains(errOut, "db import") {
		t.Errorf("missing database: exit %d %s", code, errOut)
	}
}
