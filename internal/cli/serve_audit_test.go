package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/config"
)

func TestAuditLogSources(t *testing.T) {
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	cfg := config.Default()
	cfg.Audit.Sources.LogFiles = []config.AuditLogFile{{Path: "/var/log/k/audit.log", Cluster: "prod"}}
	tests := []struct {
		name  string
		flags auditSourceFlags
		want  []logSource
		err   string
	}{
		{"config only", auditSourceFlags{cluster: "local"}, []logSource{{"prod", "/var/log/k/audit.log"}}, ""},
		{"default cluster", auditSourceFlags{cluster: "local", logPaths: []string{"rel/a.log"}},
			[]logSource{{"prod", "/var/log/k/audit.log"}, {"local", abs("rel/a.log")}}, ""},
		{"named cluster", auditSourceFlags{cluster: "local", logPaths: []string{"stage=/l/b.log"}},
			[]logSource{{"prod", "/var/log/k/audit.log"}, {"stage", "/l/b.log"}}, ""},
		{"equals in a path", auditSourceFlags{cluster: "local", logPaths: []string{"/l/x=y.log"}},
			[]logSource{{"prod", "/var/log/k/audit.log"}, {"local", "/l/x=y.log"}}, ""},
		{"twice", auditSourceFlags{cluster: "local", logPaths: []string{"a=/var/log/k/audit.log"}}, nil, "given twice"},
		{"empty", auditSourceFlags{cluster: "local", logPaths: []string{"a="}}, nil, "want [CLUSTER=]PATH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.flags.logSources(cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(logSource{})); diff != "" {
				t.Errorf("sources (-want +got):\n%s", diff)
			}
		})
	}
}
