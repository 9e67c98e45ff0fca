package imagescan

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/pgtest"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/postgres"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

var day0 = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

func day(n int) time.Time { return day0.Add(time.Duration(n) * 24 * time.Hour) }

const repo = "registry.example/shop/web"

// vulnIn is a vulnerability finding as Scan makes it, on the build with
// the given digest.
func vulnIn(digest, id string, sev finding.Severity, version string) finding.Finding {
	return finding.Finding{
		RuleID: id, Category: vulndb.Category, Severity: sev, Message: id + " in golang.org/x/text",
		Resource: finding.Resource{Image: repo + "@" + digest, ImageDigest: digest, File: "/app/server"},
		Evidence: []finding.Evidence{
			{Name: "ecosystem", Value: "Go", Key: true},
			{Name: "package", Value: "golang.org/x/text", Key: true},
			{Name: "version", Value: version, Key: true},
			{Name: "layer", Value: "1 " + digest},
		},
	}
}

// scanned is the Result of a scan at now of a build holding fs, with the
// exceptions applied as Scan applies them.
func scanned(now time.Time, partial bool, excs []config.Exception, fs ...finding.Finding) *Result {
	config.ApplyExceptions(now, excs, fs, nil)
	r := finding.NewReport(finding.Tool{Name: "palisade"}, repo+":latest", now, fs)
	r.Partial = partial
	return &Result{Report: r, Inventory: &inventory.Result{}, DB: vulndb.Status{ImportedAt: now.Add(-time.Hour)}}
}

// lenient fails only on SLAs: no count limits, so that an overdue finding
// fails "even when under the count limits".
func lenient() config.ImagePolicy {
	p := config.Default().ImagePolicy
	p.MaxVulnerabilities = config.SeverityLimits{Critical: -1, High: -1, Medium: -1, Low: -1, Unknown: -1}
	return p
}

func TestSLASQLite(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "store.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	testSLA(t, st)
}

func TestSLAPostgres(t *testing.T) {
	t.Parallel()
	st, err := postgres.Open(t.Context(), pgtest.Start(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	testSLA(t, st)
}

// testSLA scans builds of one repository on a real store with an injected
// clock: a high vulnerability seen on day 0 is within its 30-day SLA on day
// 30 and fails the gate on day 31, on a new build and a new package version
// too; an unexpired exception suppresses that, an expired one does not; a
// partial scan in between does not reset the date.
func testSLA(t *testing.T, st store.FindingStore) {
	ctx := t.Context()
	policy := lenient()
	apply := func(t *testing.T, now time.Time, res *Result, excs []config.Exception) Verdict {
		t.Helper()
		if err := ApplyPolicy(ctx, res, PolicyOptions{Policy: policy, Exceptions: excs, Store: st, Repository: repo, Now: now}); err != nil {
			t.Fatal(err)
		}
		return res.Verdict
	}

	res := scanned(day0, false, nil, vulnIn("sha256:b1", "CVE-2022-32149", finding.SeverityHigh, "0.3.7"))
	if v := apply(t, day0, res, nil); !v.Pass || len(v.Warnings) != 0 {
		t.Fatalf("day 0: %+v", v)
	}
	f := &res.Report.Findings[0]
	if got, want := evidence(f, EvidenceFirstSeen), "2026-10-01T12:00:00Z"; got != want {
		t.Errorf("day 0 firstSeen = %q, want %q", got, want)
	}
	if got, want := evidence(f, EvidenceSLADue), "2026-10-31T12:00:00Z"; got != want {
		t.Errorf("day 0 slaDue = %q, want %q", got, want)
	}

	// Day 10: a partial scan that missed the finding must not forget it.
	res = scanned(day(10), true, nil)
	if v := apply(t, day(10), res, nil); v.Pass || !strings.Contains(strings.Join(v.Warnings, "\n"), "not updated: the scan is partial") {
		t.Fatalf("day 10 partial: %+v", v)
	}

	if v := apply(t, day(30), scanned(day(30), false, nil, vulnIn("sha256:b2", "CVE-2022-32149", finding.SeverityHigh, "0.3.7")), nil); !v.Pass {
		t.Fatalf("day 30, at the SLA: %+v", v)
	}

	// Day 31, a new build with another affected version and a new medium
	// finding: the high one is overdue, the medium one is new.
	build := func() []finding.Finding {
		return []finding.Finding{
			vulnIn("sha256:b3", "CVE-2022-32149", finding.SeverityHigh, "0.3.6"),
			vulnIn("sha256:b3", "GO-2099-0001", finding.SeverityMedium, "0.3.6"),
		}
	}
	res = scanned(day(31), false, nil, build()...)
	v := apply(t, day(31), res, nil)
	wantReason := "CVE-2022-32149 (high) first seen 2026-10-01 on registry.example/shop/web, 31 days ago, over the 30-day SLA"
	if v.Pass || len(v.Reasons) != 1 || v.Reasons[0] != wantReason {
		t.Fatalf("day 31: %+v\nwant the one reason %q", v, wantReason)
	}
	for i := range res.Report.Findings {
		f := &res.Report.Findings[i]
		want := map[string]string{"CVE-2022-32149": "2026-10-31T12:00:00Z", "GO-2099-0001": "2027-01-30T12:00:00Z"}[f.RuleID]
		if got := evidence(f, EvidenceSLADue); got != want {
			t.Errorf("day 31 %s slaDue = %q, want %q", f.RuleID, got, want)
		}
	}

	exc := func(expires time.Time) []config.Exception {
		return []config.Exception{{ID: "text-upgrade", Match: config.Match{Rules: []string{"CVE-2022-32149"}}, Owner: "web-team", Reason: "upgrade in WEB-12", Expires: expires}}
	}
	if v := apply(t, day(31), scanned(day(31), false, exc(day(45)), build()...), exc(day(45))); !v.Pass {
		t.Errorf("day 31 with an unexpired exception: %+v", v)
	}
	if v := apply(t, day(31), scanned(day(31), false, exc(day(20)), build()...), exc(day(20))); v.Pass || len(v.Reasons) != 1 || v.Reasons[0] != wantReason {
		t.Errorf("day 31 with an expired exception: %+v", v)
	}

	// Fixed, then back: a finding that left the repository is new again.
	if v := apply(t, day(32), scanned(day(32), false, nil), nil); !v.Pass {
		t.Errorf("day 32, fixed: %+v", v)
	}
	if v := apply(t, day(33), scanned(day(33), false, nil, build()...), nil); !v.Pass {
		t.Errorf("day 33, back: %+v", v)
	}
}

func TestSLAWithoutStore(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opts PolicyOptions
		want string
	}{
		{"no store", PolicyOptions{Repository: repo}, "SLAs were not evaluated: no store keeps first-seen dates"},
		{"no repository", PolicyOptions{Repository: "", Store: nilStore{}}, "SLAs were not evaluated: the image has no registry repository"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := scanned(day(31), false, nil, vulnIn("sha256:b3", "CVE-2022-32149", finding.SeverityHigh, "0.3.6"))
			tt.opts.Policy, tt.opts.Now = lenient(), day(31)
			if err := ApplyPolicy(t.Context(), res, tt.opts); err != nil {
				t.Fatal(err)
			}
			v := res.Verdict
			if !v.Pass || len(v.Warnings) != 1 || !strings.Contains(v.Warnings[0], tt.want) {
				t.Errorf("verdict = %+v, want a pass warning %q", v, tt.want)
			}
			if e := evidence(&res.Report.Findings[0], EvidenceSLADue); e != "" {
				t.Errorf("slaDue %q without first-seen dates", e)
			}
		})
	}
	// No SLA configured: nothing to say.
	res := scanned(day(31), false, nil, vulnIn("sha256:b3", "CVE-1", finding.SeverityHigh, "1"))
	p := lenient()
	p.SLA = config.SLA{}
	if err := ApplyPolicy(t.Context(), res, PolicyOptions{Policy: p, Now: day(31)}); err != nil || !res.Verdict.Pass || len(res.Verdict.Warnings) != 0 {
		t.Errorf("no SLA: %+v, %v", res.Verdict, err)
	}
}

// nilStore is a FindingStore that must not be called: without a
// repository there is nothing to key first-seen dates by.
type nilStore struct{ store.FindingStore }
