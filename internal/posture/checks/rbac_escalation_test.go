package checks_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/posture"
)

// TestEscalationEvidence checks which rbac-escalation-verbs findings carry
// escalates= evidence: the grants that are admin in one step (Trivy
// KSV043, KSV051 and KSV052 map to them).
func TestEscalationEvidence(t *testing.T) {
	fs := scanFixture(t, "rbac-escalation-verbs", "testdata/rbac_escalation_verbs/fail/bind_and_create.yaml", posture.Latest)
	got := map[string]string{} // "role rule" → escalates values
	for _, f := range fs {
		var rule string
		var esc []string
		for _, e := range f.Evidence {
			switch e.Name {
			case "rule":
				rule = e.Value
			case "escalates":
				esc = append(esc, e.Value)
			}
		}
		got[f.Resource.Name+" "+rule] = strings.Join(esc, ",")
	}
	for _, tc := range []struct {
		finding, escalates string
	}{
		{"binder 1", "bind-rolebindings,bind-clusterrolebindings"},
		// A Role cannot grant clusterrolebindings; admin is privileged.
		{"namespace-binder 1", "bind-rolebindings"},
		// resourceNames are literal: only a role named "*".
		{"star-name-binder 1", ""},
		// create limited by resourceNames allows no create.
		{"named-create-binder 1", ""},
		{"group-impersonator 0", "impersonate-groups"},
		{"group-impersonator 1", ""},
		{"group-impersonator 2", ""},
	} {
		esc, ok := got[tc.finding]
		if !ok {
			t.Errorf("%s: no finding; got %v", tc.finding, got)
			continue
		}
		if esc != tc.escalates {
			t.Errorf("%s: escalates=%q, want %q", tc.finding, esc, tc.escalates)
		}
	}
	if len(fs) != 7 {
		t.Errorf("%d findings, want 7: %v", len(fs), got)
	}
}

// TestEscalationGrantEvidence checks the grant= evidence of
// rbac-escalation-verbs: which of CIS 5.1.8's three permissions a rule
// grants (Checkov CKV_K8S_157 is bind, CKV_K8S_158 escalate, CKV2_K8S_3
// impersonate).
func TestEscalationGrantEvidence(t *testing.T) {
	for _, tc := range []struct {
		file  string
		grant map[string]string // "role rule" → grant values
	}{
		{"bind_escalate.yaml", map[string]string{"app-role 0": "bind,escalate"}},
		{"impersonate.yaml", map[string]string{"app-role 0": "impersonate"}},
		{"verb_wildcards.yaml", map[string]string{
			"role-admin 0": "bind,escalate",
			"role-admin 1": "impersonate",
			"role-admin 2": "bind,escalate,impersonate",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			fs := scanFixture(t, "rbac-escalation-verbs", "testdata/rbac_escalation_verbs/fail/"+tc.file, posture.Latest)
			got := map[string]string{}
			for _, f := range fs {
				var rule string
				var grants []string
				for _, e := range f.Evidence {
					switch e.Name {
					case "rule":
						rule = e.Value
					case "grant":
						grants = append(grants, e.Value)
					}
				}
				got[f.Resource.Name+" "+rule] = strings.Join(grants, ",")
			}
			if diff := cmp.Diff(tc.grant, got); diff != "" {
				t.Errorf("grant evidence (-want +got):\n%s", diff)
			}
		})
	}
}
