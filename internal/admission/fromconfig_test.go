package admission

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
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

func TestBuild(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tests := []struct {
		name                     string
		edit                     func(*config.Config)
		deps                     Deps
		verify, pinner, nsLevels bool
		wantErr                  string
	}{
		{name: "records alone verify", deps: Deps{Records: st}, verify: true},
		{name: "records left out by sources", edit: func(c *config.Config) { c.Admission.ImageTrust.Sources = []string{config.SourceAttestation} }, deps: Deps{Records: st}},
		{name: "pinning", edit: func(c *config.Config) { c.Admission.ImageTrust.PinDigests = true }, pinner: true},
		{name: "namespace levels", edit: func(c *config.Config) { c.Admission.PodSecurity.Namespaces = map[string]string{"legacy": "privileged"} }, nsLevels: true},
		{name: "bad namespace level", edit: func(c *config.Config) { c.Admission.PodSecurity.Namespaces = map[string]string{"legacy": "open"} }, wantErr: "admission.podSecurity.namespaces"},
		{name: "metrics", deps: Deps{Registerer: prometheus.NewRegistry()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			if tt.edit != nil {
				tt.edit(cfg)
			}
			w, err := Build(cfg, tt.deps)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			trust := w.Engine.Rules[0].Policy.(*ImageTrust)
			pss := w.Engine.Rules[1].Policy.(*PodSecurity)
			if (trust.Verifier != nil) != tt.verify || (w.Pinner != nil) != tt.pinner || (pss.Namespaces != nil) != tt.nsLevels {
				t.Errorf("verifier %v, pinner %v, namespace levels %v", trust.Verifier, w.Pinner, pss.Namespaces)
			}
			if (w.Engine.Metrics != nil) != (tt.deps.Registerer != nil) {
				t.Errorf("metrics %v with registerer %v", w.Engine.Metrics, tt.deps.Registerer)
			}
		})
	}
}
