package cli

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/palisade-sec/palisade/internal/server"
	"github.com/palisade-sec/palisade/internal/sharedtest"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"

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
	if !strings.Contains(out, "secret/aws-access-key") {
		t.Errorf("the deleted .env secret is not reported:\n%s", out)
	}

	// An allowlisted path silences the secret.
	allow := filepath.Join(dir, "allow.yaml")
	if err := os.WriteFile(allow, []byte("baseline:\n  maxVulnerabilities: {critical: -1, high: -1, unknown: -1}\n  maxDBAge: 0s\nsecrets:\n  allowlist:\n    paths: [/app/*]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, "--config", allow, "image", "scan", "--db", dbPath, "--insecure-registry", ref)
	if code != ExitOK || strings.Contains(out, "secret/") {
		t.Errorf("allowlisted secret: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, "image", "verify", "--insecure-registry", "--key", prefix+".pub", ref)
	if code != ExitOK || !strings.Contains(out, "verdict:    pass") {
		t.Fatalf("verify after attest: exit %d\n%s\n%s", code, out, errOut)
	}

	// --upload records the verdict in palisade serve.
	tokens, err := server.ParseTokens("t", []byte("ci-token-0123456789abcdef,ci,palisade:ci\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "store.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv.MountStoreAPI(st)
	h := httptest.NewServer(srv.Handler())
	defer h.Close()
	code, _, errOut = runEnv(t, map[string]string{"PALISADE_TOKEN": "ci-token-0123456789abcdef"}, "image", "scan", "--db", dbPath, "--insecure-registry", "--upload", h.URL, ref)
	if code != ExitViolation || !strings.Contains(errOut, "scan recorded") {
		t.Fatalf("upload: exit %d\n%s", code, errOut)
	}
	recs, err := st.ListScans(t.Context(), store.ScanFilter{})
	if err != nil || len(recs) != 1 || recs[0].Passed || recs[0].ImageRef != ref || recs[0].Summary.Unknown == 0 {
		t.Fatalf("stored scans = %+v, %v", recs, err)
	}
	if code, _, errOut := run(t, "image", "scan", "--db", dbPath, "--insecure-registry", "--upload", h.URL, ref); code != ExitUsage || !strings.Contains(errOut, "PALISADE_TOKEN") {
		t.Errorf("upload without token: exit %d %s", code, errOut)
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
