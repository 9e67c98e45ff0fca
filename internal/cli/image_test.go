package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/admission/admissiontest"
)

func TestKeyGenerate(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "ci")
	if code, out, errOut := run(t, "key", "generate", "--output-prefix", prefix); code != ExitOK || !strings.Contains(out, "key ID:") {
		t.Fatalf("key generate: %d %s %s", code, out, errOut)
	}
	if fi, err := os.Stat(prefix + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", fi, err)
	}
	if code, _, errOut := run(t, "key", "generate", "--output-prefix", prefix); code != ExitUsage || !strings.Contains(errOut, "exists") {
		t.Errorf("second generate without --force: %d %s", code, errOut)
	}
	if code, _, _ := run(t, "key", "generate", "--output-prefix", prefix, "--force"); code != ExitOK {
		t.Errorf("generate --force: exit %d", code)
	}
}

func TestImageVerify(t *testing.T) {
	l := admissiontest.New(t)
	pub, err := l.Key.Public().PEM()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "lab.pub")
	if err := os.WriteFile(keyFile, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ref string
		want      int
		wantOut   string
	}{
		{"passing", l.Good, ExitOK, "verdict:    pass"},
		{"failing", l.Bad, ExitViolation, "verdict:    fail"},
		{"unattested", l.Bare, ExitViolation, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "image", "verify", "--insecure-registry", "--key", keyFile, tt.ref)
			if code != tt.want || !strings.Contains(out, tt.wantOut) {
				t.Errorf("exit %d (want %d)\n%s\n%s", code, tt.want, out, errOut)
			}
		})
	}
	if code, _, _ := run(t, "image", "verify", "--key", keyFile+".missing", l.Good); code != ExitUsage {
		t.Errorf("missing key file: exit %d, want 2", code)
	}
}

func TestAdmissionInstall(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "admission", "install", "--service", "palisade/palisade:8443", "--ca-file", ca)
	if code != ExitOK || !strings.Contains(out, "kind: ValidatingWebhookConfiguration") || !strings.Contains(out, "failurePolicy: Fail") || !strings.Contains(out, "timeoutSeconds: 3") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, _ := run(t, "admission", "install", "--url", "http://insecure", "--ca-file", ca); code != ExitUsage {
		t.Errorf("plain http URL: exit %d, want 2", code)
	}
}
