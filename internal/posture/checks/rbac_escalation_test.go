package checks_test

import (
	"strings"
	"testing"

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
