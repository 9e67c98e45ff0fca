package compliance

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
)

func TestLoadEmbedded(t *testing.T) {
	m, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want := []finding.Control{
		{Framework: "CIS-K8s-1.9", ID: "5.2.2"},
		{Framework: "MITRE-ATT&CK", ID: "T1611"},
		{Framework: "NSA-CISA", ID: "pod-security/privileged"},
	}
	if diff := cmp.Diff(want, m.ControlsOf("privileged")); diff != "" {
		t.Errorf("controls of privileged (-want +got):\n%s", diff)
	}
	if _, err := LoadPeers(); err != nil {
		t.Fatal(err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"unknown framework", "frameworks: [{id: A}]\ncontrols: [{framework: B, id: '1', checks: [x]}]\n", "unknown framework"},
		{"no checks", "frameworks: [{id: A}]\ncontrols: [{framework: A, id: '1'}]\n", "checks are required"},
		{"duplicate", "frameworks: [{id: A}]\ncontrols: [{framework: A, id: '1', checks: [x]}, {framework: A, id: '1', checks: [y]}]\n", "listed twice"},
		{"unknown field", "frameworks: [{id: A, owner: me}]\n", "owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
