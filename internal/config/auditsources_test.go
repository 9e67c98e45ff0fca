package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAuditSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       AuditSources
		err        string // substring of the error; empty: parses
	}{
		{"both", "audit:\n  sources:\n    clientCA: /etc/palisade/audit-ca.pem\n    logFiles:\n    - {path: /var/log/kubernetes/audit.log, cluster: prod}\n",
			AuditSources{ClientCA: "/etc/palisade/audit-ca.pem", LogFiles: []AuditLogFile{{Path: "/var/log/kubernetes/audit.log", Cluster: "prod"}}}, ""},
		{"no cluster", "audit:\n  sources:\n    logFiles:\n    - {path: /a.log}\n", AuditSources{}, "c.yaml:4:7: audit.sources.logFiles[0]: a log file needs a path and the cluster"},
		{"twice", "audit:\n  sources:\n    logFiles:\n    - {path: /a.log, cluster: x}\n    - {path: /a.log, cluster: y}\n", AuditSources{}, `audit.sources.logFiles[1].path: "/a.log" is tailed twice (also audit.sources.logFiles[0])`},
		{"not a list", "audit:\n  sources:\n    logFiles: /a.log\n", AuditSources{}, "want a list of {path, cluster}"},
		{"unknown key", "audit:\n  sources:\n    logfiles: []\n", AuditSources{}, "logfiles"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("c.yaml", []byte(tc.yaml))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, c.Audit.Sources); diff != "" {
				t.Errorf("audit.sources (-want +got):\n%s", diff)
			}
		})
	}
}
