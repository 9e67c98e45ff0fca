package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAdmissionPolicies(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    Policies
		wantErr string
	}{
		{name: "default runs all built-ins", yaml: "admission: {}\n", want: Policies{}},
		{name: "all", yaml: "admission: {policies: {builtin: all}}\n", want: Policies{}},
		{name: "none", yaml: "admission: {policies: {builtin: none}}\n", want: Policies{Builtin: []string{}}},
		{
			name: "everything",
			yaml: "admission:\n  policies:\n    builtin: [lp/no-privileged]\n    disabled: [lp/resource-limits]\n    files: [policies/, /etc/p.yaml]\n    configMaps: [{namespace: palisade, name: pol}]\n    modes: {lp/no-privileged: enforce}\n",
			want: Policies{
				Builtin: []string{"lp/no-privileged"}, Disabled: []string{"lp/resource-limits"},
				Files:      []string{"conf/policies", "/etc/p.yaml"},
				ConfigMaps: []ConfigMapRef{{Namespace: "palisade", Name: "pol"}},
				Modes:      map[string]string{"lp/no-privileged": "enforce"},
			},
		},
		{name: "bad mode", yaml: "admission: {policies: {modes: {lp/no-privileged: block}}}\n", wantErr: `conf/palisade.yaml:1:`},
		{name: "configMap without name", yaml: "admission: {policies: {configMaps: [{namespace: palisade}]}}\n", wantErr: "needs a namespace and a name"},
		{name: "unknown key", yaml: "admission: {policies: {builtins: all}}\n", wantErr: "builtins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("conf/palisade.yaml", []byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if tt.name == "bad mode" && !strings.Contains(err.Error(), `unknown mode "block"`) {
					t.Errorf("error %v does not name the mode", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, c.Admission.Policies); d != "" {
				t.Errorf("policies (-want +got):\n%s", d)
			}
		})
	}
}
