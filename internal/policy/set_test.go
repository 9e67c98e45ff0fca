package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(userPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a policy"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		sel       Selection
		wantIDs   string
		wantModes string
		wantErr   string
	}{
		{name: "none", sel: Selection{}, wantIDs: ""},
		{name: "two built-ins and a directory", sel: Selection{Builtin: []string{"lp/no-privileged", "lp/no-host-path"}, Files: []string{dir}}, wantIDs: "acme/no-latest lp/no-host-path lp/no-privileged", wantModes: "enforce audit audit"},
		{name: "all minus disabled, with modes", sel: Selection{Builtin: []string{"all"}, Disabled: []string{"lp/resource-limits"}, Modes: map[string]Mode{"lp/no-privileged": Enforce}}, wantIDs: "11 policies"},
		{name: "unknown built-in", sel: Selection{Builtin: []string{"lp/no-such"}}, wantErr: `no built-in policy "lp/no-such"`},
		{name: "unknown disabled", sel: Selection{Disabled: []string{"lp/typo"}}, wantErr: `disabled: no policy "lp/typo"`},
		{name: "a built-in not enabled may still be disabled", sel: Selection{Disabled: []string{"lp/no-host-path"}}, wantIDs: ""},
		{name: "unknown mode id", sel: Selection{Modes: map[string]Mode{"acme/x": Warn}}, wantErr: `modes: no policy "acme/x"`},
		{name: "lenient for ConfigMap ids", sel: Selection{Modes: map[string]Mode{"acme/x": Warn}, Lenient: true}, wantIDs: ""},
		{name: "bad mode", sel: Selection{Builtin: []string{"lp/no-privileged"}, Modes: map[string]Mode{"lp/no-privileged": "block"}}, wantErr: `unknown mode "block"`},
		{name: "same id twice", sel: Selection{Files: []string{dir, filepath.Join(dir, "a.yaml")}}, wantErr: "acme/no-latest is defined twice"},
		{name: "missing file", sel: Selection{Files: []string{filepath.Join(dir, "nope.yaml")}}, wantErr: "nope.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps, err := Load(t.Context(), tt.sel)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids, modes []string
			for _, p := range ps {
				ids = append(ids, p.ID)
				modes = append(modes, string(p.Mode))
			}
			got := strings.Join(ids, " ")
			if strings.HasSuffix(tt.wantIDs, " policies") {
				got = itoa(len(ps)) + " policies"
				for _, p := range ps {
					if p.ID == "lp/no-privileged" && p.Mode != Enforce {
						t.Errorf("mode override not applied: %s", p.Mode)
					}
					if p.ID == "lp/resource-limits" {
						t.Error("disabled policy loaded")
					}
				}
			}
			if got != tt.wantIDs {
				t.Errorf("policies %q, want %q", got, tt.wantIDs)
			}
			if tt.wantModes != "" && strings.Join(modes, " ") != tt.wantModes {
				t.Errorf("modes %q, want %q", strings.Join(modes, " "), tt.wantModes)
			}
		})
	}
}
