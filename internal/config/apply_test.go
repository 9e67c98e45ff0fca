package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
)

func TestApplyExceptions(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	active := Exception{ID: "log4j", Match: Match{Rules: []string{"CVE-2021-44228"}}, Owner: "sec", Reason: "mitigated", Expires: date("2026-06-30")}
	expired := Exception{ID: "old-xz", Match: Match{Rules: []string{"CVE-2024-3094"}}, Owner: "sec", Reason: "no fix yet", Expires: date("2026-04-30")}
	expiredToo := Exception{ID: "old-log4j", Match: Match{Rules: []string{"CVE-2021-*"}}, Owner: "sec", Reason: "old", Expires: date("2026-01-01")}
	stale := Exception{ID: "gone", Match: Match{Rules: []string{"CVE-1999-0001"}}, Owner: "sec", Reason: "fixed long ago", Expires: date("2027-01-01")}
	byLabel := Exception{ID: "web-privileged", Match: Match{Rules: []string{"posture/privileged"}, Labels: "app=web"}, Owner: "platform", Reason: "needs it", Expires: date("2026-12-31")}
	foreign := &finding.ExceptionRef{ID: "inline-annotation", Owner: "dev"}
	reapplied := &finding.ExceptionRef{ID: "old-xz", Owner: "sec"}

	fs := []finding.Finding{
		{ID: "F1", RuleID: "CVE-2021-44228"},
		{ID: "F2", RuleID: "CVE-2024-3094"},
		{ID: "F3", RuleID: "CVE-2024-3094", Status: finding.StatusExcepted, Exception: reapplied},
		{ID: "F4", RuleID: "CVE-2024-9999", Status: finding.StatusExcepted, Exception: foreign},
		{ID: "F5", RuleID: "posture/privileged", Resource: finding.Resource{Namespace: "web", Name: "front"}},
		{ID: "F6", RuleID: "posture/privileged", Resource: finding.Resource{Namespace: "db", Name: "pg"}},
		{ID: "F7", RuleID: "CVE-2024-0001", Status: finding.StatusOpen},
		{RuleID: "CVE-2021-44228", Resource: finding.Resource{Name: "no-id"}},
	}
	labelsOf := func(r finding.Resource) map[string]string {
		if r.Name == "front" {
			return map[string]string{"app": "web"}
		}
		return map[string]string{"app": "db"}
	}
	noID := finding.ComputeID(&fs[7])

	res := ApplyExceptions(now, []Exception{active, expired, expiredToo, stale, byLabel}, fs, labelsOf)

	ref := func(e Exception) *finding.ExceptionRef { r := e.Ref(); return &r }
	wantFs := []finding.Finding{
		{ID: "F1", RuleID: "CVE-2021-44228", Status: finding.StatusExcepted, Exception: ref(active)},
		{ID: "F2", RuleID: "CVE-2024-3094"},
		{ID: "F3", RuleID: "CVE-2024-3094", Status: finding.StatusOpen},
		{ID: "F4", RuleID: "CVE-2024-9999", Status: finding.StatusExcepted, Exception: foreign},
		{ID: "F5", RuleID: "posture/privileged", Resource: finding.Resource{Namespace: "web", Name: "front"}, Status: finding.StatusExcepted, Exception: ref(byLabel)},
		{ID: "F6", RuleID: "posture/privileged", Resource: finding.Resource{Namespace: "db", Name: "pg"}},
		{ID: "F7", RuleID: "CVE-2024-0001", Status: finding.StatusOpen},
		{RuleID: "CVE-2021-44228", Resource: finding.Resource{Name: "no-id"}, Status: finding.StatusExcepted, Exception: ref(active)},
	}
	if diff := cmp.Diff(wantFs, fs); diff != "" {
		t.Errorf("findings mismatch (-want +got):\n%s", diff)
	}
	wantRes := ApplyResult{
		Used: []ExceptionUse{
			{Exception: active, Findings: []string{"F1", noID}},
			{Exception: byLabel, Findings: []string{"F5"}},
		},
		Expired: []ExceptionUse{
			{Exception: expired, Findings: []string{"F2", "F3"}},
			{Exception: expiredToo, Findings: []string{"F1", noID}},
		},
		Stale: []Exception{stale},
	}
	if diff := cmp.Diff(wantRes, res, ignoreInternal); diff != "" {
		t.Errorf("result mismatch (-want +got):\n%s", diff)
	}

	// Applying again gives the same findings: the function is idempotent.
	again := append([]finding.Finding(nil), fs...)
	ApplyExceptions(now, []Exception{active, expired, expiredToo, stale, byLabel}, again, labelsOf)
	if diff := cmp.Diff(wantFs, again); diff != "" {
		t.Errorf("second application changed findings (-want +got):\n%s", diff)
	}

	// Later, "log4j" expires too: F1 reopens.
	later := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	res = ApplyExceptions(later, []Exception{active}, fs[:1], nil)
	if fs[0].Status != finding.StatusOpen || fs[0].Exception != nil {
		t.Errorf("after expiry F1 = %+v, want open with no exception", fs[0])
	}
	if len(res.Expired) != 1 || len(res.Used) != 0 {
		t.Errorf("after expiry result = %+v, want one expired exception", res)
	}
}

func TestApplyExceptionsNoLabels(t *testing.T) {
	// With no labelsOf, label selectors cannot be judged and match nothing.
	e := Exception{Match: Match{Labels: "app!=db"}, Owner: "o", Reason: "r", Expires: date("2030-01-01")}
	fs := []finding.Finding{{ID: "F1", RuleID: "x"}}
	res := ApplyExceptions(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), []Exception{e}, fs, nil)
	if fs[0].Status != "" || len(res.Stale) != 1 {
		t.Errorf("got finding %+v, result %+v; want the finding untouched and the exception stale", fs[0], res)
	}
}
