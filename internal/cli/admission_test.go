package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdmissionInstallPinDigests(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "palisade.yaml")
	if err := os.WriteFile(cfg, []byte("admission:\n  imageTrust:\n    pinDigests: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "admission", "install", "--config", cfg, "--service", "palisade/palisade:8443", "--ca-file", ca)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"kind: ValidatingWebhookConfiguration", "\n---\n", "kind: MutatingWebhookConfiguration", "path: /admission/v1/mutate", "reinvocationPolicy: IfNeeded"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = run(t, "admission", "install", "--service", "palisade/palisade:8443", "--ca-file", ca)
	if code != ExitOK || strings.Contains(out, "MutatingWebhookConfiguration") {
		t.Errorf("without pinDigests: exit %d, output names a mutating webhook", code)
	}
}
