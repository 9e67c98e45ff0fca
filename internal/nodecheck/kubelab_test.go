package nodecheck

import (
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/kubelab/kubelabtest"
)

// TestKubelabProcesses checks a real kube-apiserver and etcd through their
// real /proc/<pid>/cmdline, restricted to kubelab's processes so whatever
// else runs on the machine does not count. The expectations are the flags
// kubelab starts them with (internal/kubelab/start.go).
func TestKubelabProcesses(t *testing.T) {
	c := kubelabtest.Start(t, kubelab.Options{
		AnonymousAuth:       true,
		AuditLog:            true,
		ExtraAPIServerFlags: []string{"--enable-admission-plugins=NodeRestriction"},
	})
	out, err := Run(t.Context(), All(), Options{Root: "/", PIDs: c.PIDs()})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{APIServer, Etcd} {
		comp := out.Node.Components[name]
		if comp == nil || !strings.HasPrefix(comp.Source, "pid ") {
			t.Fatalf("%s not found among kubelab's processes %v: %+v", name, c.PIDs(), out.Node.Components)
		}
	}
	byRule := map[string][]finding.Finding{}
	for _, f := range out.Findings {
		byRule[f.RuleID] = append(byRule[f.RuleID], f)
	}
	for _, tc := range []struct {
		rule    string
		finding bool
		message string // part of the message when a finding is expected
	}{
		{"node/apiserver-anonymous-auth", true, `flag --anonymous-auth = "true"`},
		{"node/apiserver-profiling", false, ""},                           // --profiling=false
		{"node/apiserver-token-auth-file", true, c.Dir + "/tokens.csv"},   // kubelab's static tokens
		{"node/apiserver-authz-rbac", false, ""},                          // --authorization-mode=RBAC
		{"node/apiserver-authz-node", true, `"RBAC"`},                     // …without Node
		{"node/apiserver-node-restriction", false, ""},                    // from ExtraAPIServerFlags
		{"node/apiserver-service-account-plugin", true, "ServiceAccount"}, // kubelab disables it
		{"node/apiserver-audit-log-path", false, ""},                      // AuditLog: true
		{"node/apiserver-audit-log-maxsize", false, ""},                   // --audit-log-maxsize=100
		{"node/apiserver-audit-log-maxage", true, "not set"},
		{"node/apiserver-encryption-config", true, "not set"},
		{"node/apiserver-tls-cert", false, ""},
		{"node/etcd-tls", true, "--cert-file is not set"}, // plain http on loopback
		{"node/etcd-client-cert-auth", true, `default = "false"`},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			fs := byRule[tc.rule]
			if !tc.finding {
				if len(fs) > 0 {
					t.Fatalf("unexpected finding: %s", fs[0].Message)
				}
				return
			}
			if len(fs) == 0 {
				t.Fatal("no finding")
			}
			var msgs []string
			for _, f := range fs {
				msgs = append(msgs, f.Message)
			}
			if all := strings.Join(msgs, "\n"); !strings.Contains(all, tc.message) {
				t.Errorf("messages %q lack %q", all, tc.message)
			}
		})
	}
	// Every API server check ran: the coverage counts the passes too.
	ran := map[string]bool{}
	for _, r := range out.Coverage.Rules {
		ran[r.RuleID] = true
	}
	for _, ch := range All() {
		if ch.Component == APIServer && !ran[ch.ID] {
			t.Errorf("API server check %s did not run", ch.ID)
		}
	}
}
