package admission

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/config"
)

func TestFromConfig(t *testing.T) {
	dir := t.TempDir()
	_, pub, err := attest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "ci.pub")
	if err := os.WriteFile(keyFile, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(*config.Config)
		wantErr string
		verify  bool
	}{
		{name: "defaults", edit: func(*config.Config) {}},
		{name: "with a trusted key", edit: func(c *config.Config) { c.Admission.TrustedKeys = []string{keyFile} }, verify: true},
		{name: "missing key", edit: func(c *config.Config) { c.Admission.TrustedKeys = []string{filepath.Join(dir, "no.pub")} }, wantErr: "admission.trustedKeys"},
		{name: "bad level", edit: func(c *config.Config) { c.Admission.PodSecurity.Level = "strict" }, wantErr: "admission.podSecurity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			tt.edit(cfg)
			e, err := FromConfig(cfg, discard())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			trust := e.Rules[0].Policy.(*ImageTrust)
			if (trust.Verifier != nil) != tt.verify || e.Rules[0].Mode != Enforce || len(e.ExcludedNamespaces) != 2 {
				t.Errorf("engine = %+v, verifier %v", e, trust.Verifier)
			}
		})
	}
}
