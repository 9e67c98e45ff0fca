package nodecheck

import (
	"strings"
	"testing"
)

// TestPodGCThreshold: CIS 1.3.1 asks for a threshold that bounds the
// terminated pods kept; 0 or less switches the collector off.
func TestPodGCThreshold(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		pass bool
		why  string // in the message of a failure
	}{
		{"positive", []string{"--terminated-pod-gc-threshold=10"}, true, ""},
		{"zero", []string{"--terminated-pod-gc-threshold=0"}, false, "switches the garbage collector off"},
		{"negative", []string{"--terminated-pod-gc-threshold=-5"}, false, "switches the garbage collector off"},
		{"not a number", []string{"--terminated-pod-gc-threshold=ten"}, false, "is not a number"},
		{"unset", nil, false, "is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := gcResults(t, All(), tc.args)
			if len(rs) != 1 || rs[0].Pass != tc.pass || !strings.Contains(rs[0].Message, tc.why) {
				t.Errorf("got %+v, want pass %v with %q", rs, tc.pass, tc.why)
			}
		})
	}
}

func gcResults(t *testing.T, checks []Check, args []string) []FlagResult {
	t.Helper()
	var out []FlagResult
	for _, r := range EvalFlags(t.Context(), checks, ControllerManager, args) {
		if r.Check.ID == "node/controller-manager-pod-gc" {
			out = append(out, r)
		}
	}
	return out
}

// TestManualMessage: a failure of a recommendation CIS marks Manual says
// so, and what is left to judge, on the node scan's and posture's path.
func TestManualMessage(t *testing.T) {
	manual := 0
	for _, r := range EvalFlags(t.Context(), All(), APIServer, []string{"--enable-admission-plugins=NodeRestriction"}) {
		if r.Pass {
			continue
		}
		has := strings.Contains(r.Message, ". CIS marks "+r.Check.CIS+" Manual: ")
		if has != (r.Check.Manual != "") {
			t.Errorf("%s: message %q, Manual %q", r.Check.ID, r.Message, r.Check.Manual)
		}
		if has {
			manual++
		}
	}
	if manual != 3 {
		t.Errorf("%d Manual failures, want 3 (1.2.3, 1.2.9, 1.2.11)", manual)
	}
}
