package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
)

func TestExceptionMatches(t *testing.T) {
	deploy := &finding.Finding{
		RuleID: "CVE-2021-44228",
		Resource: finding.Resource{
			Namespace: "billing-prod", Kind: "Deployment", Name: "invoice-api",
			Image: "ghcr.io/acme/invoice:1.4.2", ImageDigest: "sha256:aaaa",
		},
	}
	posture := &finding.Finding{RuleID: "posture/hostPathVolumes", Resource: finding.Resource{Namespace: "kube-system", Kind: "DaemonSet", Name: "csi-node"}}
	digestOnly := &finding.Finding{RuleID: "GHSA-xxxx", Resource: finding.Resource{Image: "registry.acme.internal:5000/team/app@sha256:bbbb"}}
	web := map[string]string{"app": "web", "tier": "front", "env": "prod"}

	tests := []struct {
		name   string
		match  Match
		f      *finding.Finding
		labels map[string]string
		want   bool
	}{
		{"empty match matches nothing", Match{}, deploy, nil, false},
		{"rule exact", Match{Rules: []string{"CVE-2021-44228"}}, deploy, nil, true},
		{"rule case-insensitive", Match{Rules: []string{"cve-2021-44228"}}, deploy, nil, true},
		{"rule any of list", Match{Rules: []string{"CVE-1", "CVE-2021-4*"}}, deploy, nil, true},
		{"rule other", Match{Rules: []string{"CVE-2021-45046"}}, deploy, nil, false},
		{"rule glob within segment", Match{Rules: []string{"posture/host*"}}, posture, nil, true},
		{"rule glob does not cross slash", Match{Rules: []string{"*"}}, posture, nil, false},
		{"namespace glob", Match{Namespace: "billing-*"}, deploy, nil, true},
		{"namespace mismatch", Match{Namespace: "billing"}, deploy, nil, false},
		{"namespace on cluster-scoped", Match{Namespace: "default"}, digestOnly, nil, false},
		{"kind case-insensitive", Match{Kind: "deployment"}, deploy, nil, true},
		{"kind mismatch", Match{Kind: "StatefulSet"}, deploy, nil, false},
		{"name glob", Match{Name: "invoice-?pi"}, deploy, nil, true},
		{"all fields must match", Match{Rules: []string{"CVE-2021-44228"}, Namespace: "billing-*", Kind: "Pod"}, deploy, nil, false},
		{"image as written", Match{Image: "ghcr.io/acme/invoice:1.4.2"}, deploy, nil, true},
		{"image tag glob", Match{Image: "ghcr.io/acme/invoice:1.*"}, deploy, nil, true},
		{"image repository without tag", Match{Image: "ghcr.io/acme/invoice"}, deploy, nil, true},
		{"image repository glob", Match{Image: "ghcr.io/acme/*"}, deploy, nil, true},
		{"image digest", Match{Image: "sha256:aaaa"}, deploy, nil, true},
		{"image repo@digest", Match{Image: "ghcr.io/acme/invoice@sha256:a*"}, deploy, nil, true},
		{"image other repo", Match{Image: "ghcr.io/acme/billing"}, deploy, nil, false},
		{"image port is not a tag", Match{Image: "registry.acme.internal:5000/team/app"}, digestOnly, nil, true},
		{"image digest from reference", Match{Image: "sha256:bbbb"}, digestOnly, nil, true},
		{"image on non-image finding", Match{Image: "*"}, posture, nil, false},
		{"labels selector", Match{Labels: "app=web,tier!=db,env in (prod,stage)"}, deploy, web, true},
		{"labels selector mismatch", Match{Labels: "env in (dev)"}, deploy, web, false},
		{"labels unknown", Match{Labels: "tier!=db"}, deploy, nil, false},
		{"labels known empty", Match{Labels: "tier!=db"}, deploy, map[string]string{}, true},
		{"labels unparsable match nothing", Match{Labels: "app = = web"}, deploy, web, false},
		{"bad glob matches nothing", Match{Name: "["}, deploy, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &Exception{Match: tt.match}
			if got := e.Matches(tt.f, tt.labels); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
			// A parsed selector must give the same answer.
			e.Match.compile()
			if got := e.Matches(tt.f, tt.labels); got != tt.want {
				t.Errorf("Matches after compile = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExceptionExpired(t *testing.T) {
	e := Exception{Expires: date("2026-03-31")}
	tests := []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2026, 3, 31, 23, 59, 59, 999999999, time.UTC), false},
		{time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), true},
		// 2026-04-01 01:00 in Paris is still March 31 in UTC.
		{time.Date(2026, 4, 1, 1, 0, 0, 0, time.FixedZone("CEST", 2*3600)), false},
	}
	for _, tt := range tests {
		if got := e.Expired(tt.now); got != tt.want {
			t.Errorf("Expired(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
	if !(&Exception{}).Expired(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("an exception with no expiry must count as expired")
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{in: "2026-03-31", want: time.Date(2026, 3, 31, 23, 59, 59, 999999999, time.UTC)},
		{in: "2026-03-31T10:00:00Z", want: time.Date(2026, 3, 31, 10, 0, 0, 0, time.UTC)},
		{in: "2026-03-31T10:00:00.5+02:00", want: time.Date(2026, 3, 31, 8, 0, 0, 5e8, time.UTC)},
		{in: "next week", wantErr: `cannot parse "next week" as a date (want YYYY-MM-DD or RFC 3339)`},
		{in: "2026-02-30", wantErr: `cannot parse "2026-02-30" as a date (want YYYY-MM-DD or RFC 3339)`},
		{in: "31/03/2026", wantErr: `cannot parse "31/03/2026" as a date (want YYYY-MM-DD or RFC 3339)`},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseDate(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseDate(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestStableID(t *testing.T) {
	a := Match{Rules: []string{"CVE-2", "CVE-1"}, Kind: "Deployment", Labels: "b=2, a=1"}
	b := Match{Rules: []string{"cve-1", "cve-2"}, Kind: "deployment", Labels: "a=1,b=2"}
	if a.StableID() != b.StableID() {
		t.Errorf("equivalent matches have different IDs: %s, %s", a.StableID(), b.StableID())
	}
	// Fields must not run into each other.
	c := Match{Namespace: "ab", Name: "c"}
	d := Match{Namespace: "a", Name: "bc"}
	if c.StableID() == d.StableID() {
		t.Errorf("different matches share ID %s", c.StableID())
	}
	// Pinned: changing the hash renames every exception without an id.
	if got, want := (&Match{Rules: []string{"CVE-2024-3094"}}).StableID(), "EXC-B1FBF75E9E132798"; got != want {
		t.Errorf("StableID = %q, want %q", got, want)
	}
}

func TestExceptionRef(t *testing.T) {
	e := Exception{Match: Match{Kind: "Pod"}, Owner: "o", Reason: "r", Expires: date("2026-01-01")}
	want := finding.ExceptionRef{ID: e.Match.StableID(), Owner: "o", Reason: "r", Expires: date("2026-01-01")}
	if diff := cmp.Diff(want, e.Ref()); diff != "" {
		t.Errorf("Ref mismatch (-want +got):\n%s", diff)
	}
	e.ID = "mine"
	if got := e.Ref().ID; got != "mine" {
		t.Errorf("Ref().ID = %q, want mine", got)
	}
}

// TestMatchesAfterEdit checks that editing Labels after Parse takes effect
// (the selector parsed at decode time must not go stale).
func TestMatchesAfterEdit(t *testing.T) {
	c, err := Parse("p.yaml", []byte("exceptions:\n  - match: {labels: app=web}\n    owner: o\n    reason: r\n    expires: 2030-01-01\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := &c.Exceptions[0]
	f := &finding.Finding{}
	if !e.Matches(f, map[string]string{"app": "web"}) {
		t.Fatal("parsed exception does not match app=web")
	}
	e.Match.Labels = "app=db"
	if e.Matches(f, map[string]string{"app": "web"}) || !e.Matches(f, map[string]string{"app": "db"}) {
		t.Error("Matches used the selector from before the edit")
	}
}
