package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
)

// mkFinding returns a finding on a Deployment named name, its ID filled in
// and its status open unless given.
func mkFinding(rule, namespace, name string, sev finding.Severity, status finding.Status) finding.Finding {
	if status == "" {
		status = finding.StatusOpen
	}
	f := finding.Finding{
		RuleID:   rule,
		Title:    "title of " + rule,
		Severity: sev,
		Resource: finding.Resource{Cluster: "prod", Namespace: namespace, Kind: "Deployment", Name: name},
		Message:  "message about " + name,
		Evidence: []finding.Evidence{{Name: "field", Value: "spec.hostNetwork", Key: true}},
		Status:   status,
	}
	f.ID = finding.ComputeID(&f)
	return f
}

// names returns "scope/resource name" for each record, for short diffs.
func names(rs []store.FindingRecord) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Scope+"/"+r.Finding.Resource.Name)
	}
	return out
}

func testFindings(t *testing.T, open opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		f := finding.Finding{
			RuleID: "posture/host-network", Title: "Host network", Severity: finding.SeverityHigh, Category: "posture",
			Resource: finding.Resource{Cluster: "prod", Namespace: "web", APIVersion: "apps/v1", Kind: "Deployment",
				Name: "api", Container: "app", Image: "reg/app:1", ImageDigest: "sha256:ab", File: "deploy.yaml", Line: 12, Column: 3},
			Message:     "uses the host network",
			Evidence:    []finding.Evidence{{Name: "field", Value: "spec.hostNetwork", Key: true}, {Name: "value", Value: "true"}},
			Remediation: "set hostNetwork: false",
			References:  []string{"https://example.com/a"},
			Controls:    []finding.Control{{Framework: "CIS-K8s-1.9", ID: "5.2.4"}},
			Status:      finding.StatusExcepted,
			Exception:   &finding.ExceptionRef{ID: "EX-1", Owner: "sec", Reason: "legacy", Expires: at(60 * 24)},
		}
		f.ID = finding.ComputeID(&f)
		res, err := s.ReplaceFindings(t.Context(), "cluster:prod", at(0), []finding.Finding{f})
		must(t, "ReplaceFindings", err)
		if diff := cmp.Diff(store.ReplaceResult{New: 1}, res); diff != "" {
			t.Errorf("ReplaceFindings result (-want +got):\n%s", diff)
		}
		got, err := s.ListFindings(t.Context(), store.FindingFilter{})
		must(t, "ListFindings", err)
		want := []store.FindingRecord{{Scope: "cluster:prod", FirstSeen: at(0), LastSeen: at(0), Finding: f}}
		if diff := cmp.Diff(want, got, diffOpts); diff != "" {
			t.Errorf("ListFindings (-want +got):\n%s", diff)
		}
	})

	t.Run("ReplaceKeepsFirstSeen", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		a := mkFinding("R1", "ns", "a", finding.SeverityHigh, "")
		b := mkFinding("R1", "ns", "b", finding.SeverityHigh, "")
		c := mkFinding("R1", "ns", "c", finding.SeverityHigh, "")
		d := mkFinding("R2", "ns", "d", finding.SeverityHigh, "")
		_, err := s.ReplaceFindings(ctx, "cluster:prod", at(0), []finding.Finding{a, b, c})
		must(t, "first run", err)

		c2 := c // same ID, new content
		c2.Message, c2.Severity = "changed", finding.SeverityCritical
		res, err := s.ReplaceFindings(ctx, "cluster:prod", at(10), []finding.Finding{b, c2, d})
		must(t, "second run", err)
		if diff := cmp.Diff(store.ReplaceResult{New: 1, Kept: 2, Removed: 1}, res); diff != "" {
			t.Errorf("second run result (-want +got):\n%s", diff)
		}
		got, err := s.ListFindings(ctx, store.FindingFilter{Scope: "cluster:prod"})
		must(t, "ListFindings", err)
		want := []store.FindingRecord{
			{Scope: "cluster:prod", FirstSeen: at(0), LastSeen: at(10), Finding: c2},
			{Scope: "cluster:prod", FirstSeen: at(0), LastSeen: at(10), Finding: b},
			{Scope: "cluster:prod", FirstSeen: at(10), LastSeen: at(10), Finding: d},
		}
		if diff := cmp.Diff(want, got, diffOpts); diff != "" {
			t.Errorf("after second run (-want +got):\n%s", diff)
		}

		// a was fixed and comes back: it is new again.
		res, err = s.ReplaceFindings(ctx, "cluster:prod", at(20), []finding.Finding{a})
		must(t, "third run", err)
		if diff := cmp.Diff(store.ReplaceResult{New: 1, Removed: 3}, res); diff != "" {
			t.Errorf("third run result (-want +got):\n%s", diff)
		}
		got, err = s.ListFindings(ctx, store.FindingFilter{})
		must(t, "ListFindings", err)
		want = []store.FindingRecord{{Scope: "cluster:prod", FirstSeen: at(20), LastSeen: at(20), Finding: a}}
		if diff := cmp.Diff(want, got, diffOpts); diff != "" {
			t.Errorf("after third run (-want +got):\n%s", diff)
		}
	})

	t.Run("ScopesAreIndependent", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		f := mkFinding("R1", "ns", "x", finding.SeverityLow, "")
		_, err := s.ReplaceFindings(ctx, "cluster:a", at(0), []finding.Finding{f})
		must(t, "replace a", err)
		_, err = s.ReplaceFindings(ctx, "cluster:b", at(5), []finding.Finding{f})
		must(t, "replace b", err)
		res, err := s.ReplaceFindings(ctx, "cluster:a", at(10), nil)
		must(t, "clear a", err)
		if diff := cmp.Diff(store.ReplaceResult{Removed: 1}, res); diff != "" {
			t.Errorf("clear result (-want +got):\n%s", diff)
		}
		got, err := s.ListFindings(ctx, store.FindingFilter{})
		must(t, "ListFindings", err)
		want := []store.FindingRecord{{Scope: "cluster:b", FirstSeen: at(5), LastSeen: at(5), Finding: f}}
		if diff := cmp.Diff(want, got, diffOpts); diff != "" {
			t.Errorf("ListFindings (-want +got):\n%s", diff)
		}
	})

	t.Run("Filters", func(t *testing.T) { t.Parallel(); testFindingFilters(t, open) })

	t.Run("DuplicateIDsKeepFirst", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		first := mkFinding("R1", "ns", "dup", finding.SeverityHigh, "")
		second := first
		second.Title = "second"
		res, err := s.ReplaceFindings(t.Context(), "s", at(0), []finding.Finding{first, second})
		must(t, "ReplaceFindings", err)
		if res.New != 1 {
			t.Errorf("New = %d, want 1", res.New)
		}
		got, err := s.ListFindings(t.Context(), store.FindingFilter{})
		must(t, "ListFindings", err)
		if len(got) != 1 || got[0].Finding.Title != first.Title {
			t.Errorf("ListFindings = %+v, want only the first finding", got)
		}
	})

	t.Run("FillsIDAndStatus", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		in := []finding.Finding{{RuleID: "R9", Severity: finding.SeverityMedium, Resource: finding.Resource{Name: "n"}}}
		_, err := s.ReplaceFindings(t.Context(), "s", at(0), in)
		must(t, "ReplaceFindings", err)
		if in[0].ID != "" || in[0].Status != "" {
			t.Errorf("ReplaceFindings modified its argument: %+v", in[0])
		}
		got, err := s.ListFindings(t.Context(), store.FindingFilter{})
		must(t, "ListFindings", err)
		want := in[0]
		want.ID, want.Status = finding.ComputeID(&want), finding.StatusOpen
		if len(got) != 1 {
			t.Fatalf("ListFindings returned %d findings, want 1", len(got))
		}
		if diff := cmp.Diff(want, got[0].Finding, diffOpts); diff != "" {
			t.Errorf("stored finding (-want +got):\n%s", diff)
		}
	})

	t.Run("TimesTruncatedToUTCMicroseconds", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		seen := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 5*3600+1800))
		_, err := s.ReplaceFindings(t.Context(), "s", seen, []finding.Finding{mkFinding("R", "", "n", 0, "")})
		must(t, "ReplaceFindings", err)
		got, err := s.ListFindings(t.Context(), store.FindingFilter{})
		must(t, "ListFindings", err)
		want := time.Date(2025, 1, 1, 21, 34, 5, 123456000, time.UTC)
		if len(got) != 1 || !got[0].FirstSeen.Equal(want) || got[0].FirstSeen.Location() != time.UTC {
			t.Errorf("FirstSeen = %v, want %v", got[0].FirstSeen, want)
		}
	})

	t.Run("InvalidLeavesScopeUntouched", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		good := mkFinding("R1", "ns", "good", finding.SeverityHigh, "")
		_, err := s.ReplaceFindings(ctx, "s", at(0), []finding.Finding{good})
		must(t, "ReplaceFindings", err)
		bad := mkFinding("R\xff", "ns", "bad", finding.SeverityHigh, "")
		for _, tc := range []struct {
			name   string
			scope  string
			seenAt time.Time
			fs     []finding.Finding
		}{
			{"empty scope", "", at(1), nil},
			{"NUL in scope", "s\x00", at(1), nil},
			{"zero time", "s", time.Time{}, nil},
			{"invalid UTF-8 rule", "s", at(1), []finding.Finding{good, bad}},
		} {
			_, err := s.ReplaceFindings(ctx, tc.scope, tc.seenAt, tc.fs)
			wantErr(t, tc.name, err, store.ErrInvalid)
		}
		for _, f := range []store.FindingFilter{{Limit: -1}, {Offset: -1}, {Namespace: "\x00"}} {
			_, err := s.ListFindings(ctx, f)
			wantErr(t, fmt.Sprintf("ListFindings(%+v)", f), err, store.ErrInvalid)
		}
		got, err := s.ListFindings(ctx, store.FindingFilter{})
		must(t, "ListFindings", err)
		if diff := cmp.Diff([]string{"s/good"}, names(got)); diff != "" {
			t.Errorf("after invalid replaces (-want +got):\n%s", diff)
		}
	})

	t.Run("CancelledContextLeavesScopeUntouched", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		a := mkFinding("R1", "ns", "a", finding.SeverityHigh, "")
		_, err := s.ReplaceFindings(t.Context(), "s", at(0), []finding.Finding{a})
		must(t, "ReplaceFindings", err)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.ReplaceFindings(ctx, "s", at(1), nil); err == nil {
			t.Errorf("ReplaceFindings with a cancelled context succeeded")
		}
		got, err := s.ListFindings(t.Context(), store.FindingFilter{})
		must(t, "ListFindings", err)
		if diff := cmp.Diff([]string{"s/a"}, names(got)); diff != "" {
			t.Errorf("after cancelled replace (-want +got):\n%s", diff)
		}
	})

	t.Run("ConcurrentReplaceOfOneScope", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		const writers = 8
		sets := make([][]finding.Finding, writers)
		for w := range sets {
			for i := range 20 {
				sets[w] = append(sets[w], mkFinding("R", "ns", fmt.Sprintf("w%d-%02d", w, i), finding.SeverityLow, ""))
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for w := range writers {
			wg.Go(func() {
				for r := range 5 {
					if _, err := s.ReplaceFindings(t.Context(), "shared", at(r), sets[w]); err != nil {
						errs[w] = err
						return
					}
				}
			})
		}
		wg.Wait()
		must(t, "concurrent ReplaceFindings", errors.Join(errs...))
		got, err := s.ListFindings(t.Context(), store.FindingFilter{Scope: "shared"})
		must(t, "ListFindings", err)
		// Whoever replaced last wins, entirely: no mix of two sets.
		if len(got) != 20 {
			t.Fatalf("scope holds %d findings, want one writer's 20", len(got))
		}
		prefix := strings.SplitN(got[0].Finding.Resource.Name, "-", 2)[0]
		for _, r := range got {
			if !strings.HasPrefix(r.Finding.Resource.Name, prefix+"-") {
				t.Fatalf("scope mixes the sets of two writers: %v", names(got))
			}
		}
	})

	t.Run("ManyFindings", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		var fs []finding.Finding
		for i := range 2000 {
			fs = append(fs, mkFinding(fmt.Sprintf("R%d", i%7), "ns", fmt.Sprintf("w%04d", i), finding.Severity(i%6), ""))
		}
		res, err := s.ReplaceFindings(ctx, "big", at(0), fs)
		must(t, "first replace", err)
		if res.New != 2000 {
			t.Errorf("New = %d, want 2000", res.New)
		}
		res, err = s.ReplaceFindings(ctx, "big", at(1), fs[1000:])
		must(t, "second replace", err)
		if diff := cmp.Diff(store.ReplaceResult{Kept: 1000, Removed: 1000}, res); diff != "" {
			t.Errorf("second replace (-want +got):\n%s", diff)
		}
		got, err := s.ListFindings(ctx, store.FindingFilter{Scope: "big"})
		must(t, "ListFindings", err)
		if len(got) != 1000 {
			t.Errorf("ListFindings returned %d, want 1000", len(got))
		}
	})
}

func testFindingFilters(t *testing.T, open opener) {
	s := openStore(t, open)
	ctx := t.Context()
	_, err := s.ReplaceFindings(ctx, "cluster:prod", at(0), []finding.Finding{
		mkFinding("R1", "default", "p1", finding.SeverityCritical, finding.StatusOpen),
		mkFinding("R2", "kube-system", "p2", finding.SeverityHigh, finding.StatusExcepted),
		mkFinding("R1", "default", "p3", finding.SeverityLow, finding.StatusOpen),
		mkFinding("R3", "", "p4", finding.SeverityUnknown, finding.StatusOpen),
	})
	must(t, "replace prod", err)
	_, err = s.ReplaceFindings(ctx, "image:sha256:aa", at(0), []finding.Finding{
		mkFinding("R1", "", "i1", finding.SeverityCritical, finding.StatusOpen),
		mkFinding("R2", "", "i2", finding.SeverityMedium, finding.StatusOpen),
	})
	must(t, "replace image", err)

	const prod, img = "cluster:prod/", "image:sha256:aa/"
	for _, tc := range []struct {
		name   string
		filter store.FindingFilter
		want   []string
	}{
		{"all", store.FindingFilter{}, []string{prod + "p1", img + "i1", prod + "p2", img + "i2", prod + "p3", prod + "p4"}},
		{"scope", store.FindingFilter{Scope: "cluster:prod"}, []string{prod + "p1", prod + "p2", prod + "p3", prod + "p4"}},
		{"min high", store.FindingFilter{MinSeverity: finding.SeverityHigh}, []string{prod + "p1", img + "i1", prod + "p2"}},
		{"min info drops unknown", store.FindingFilter{MinSeverity: finding.SeverityInfo}, []string{prod + "p1", img + "i1", prod + "p2", img + "i2", prod + "p3"}},
		{"excepted", store.FindingFilter{Status: finding.StatusExcepted}, []string{prod + "p2"}},
		{"open", store.FindingFilter{Status: finding.StatusOpen}, []string{prod + "p1", img + "i1", img + "i2", prod + "p3", prod + "p4"}},
		{"rule", store.FindingFilter{RuleID: "R1"}, []string{prod + "p1", img + "i1", prod + "p3"}},
		{"namespace", store.FindingFilter{Namespace: "default"}, []string{prod + "p1", prod + "p3"}},
		{"combined", store.FindingFilter{Scope: "cluster:prod", RuleID: "R1", MinSeverity: finding.SeverityMedium}, []string{prod + "p1"}},
		{"limit", store.FindingFilter{Limit: 2}, []string{prod + "p1", img + "i1"}},
		{"limit and offset", store.FindingFilter{Limit: 2, Offset: 2}, []string{prod + "p2", img + "i2"}},
		{"offset only", store.FindingFilter{Offset: 5}, []string{prod + "p4"}},
		{"offset past end", store.FindingFilter{Offset: 10}, nil},
		{"unknown scope", store.FindingFilter{Scope: "cluster:none"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListFindings(ctx, tc.filter)
			must(t, "ListFindings", err)
			if diff := cmp.Diff(tc.want, names(got)); diff != "" {
				t.Errorf("ListFindings(%+v) (-want +got):\n%s", tc.filter, diff)
			}
		})
	}
}
