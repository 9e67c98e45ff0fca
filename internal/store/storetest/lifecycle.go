package storetest

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
)

func testLifecycle(t *testing.T, open opener) {
	t.Run("PingAndVersion", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		must(t, "Ping", s.Ping(t.Context()))
		v, err := s.SchemaVersion(t.Context())
		must(t, "SchemaVersion", err)
		if v < 1 {
			t.Errorf("SchemaVersion = %d, want at least 1", v)
		}
	})

	t.Run("MigrateIsIdempotent", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		v1, err := s.SchemaVersion(ctx)
		must(t, "SchemaVersion", err)
		must(t, "Migrate", s.Migrate(ctx))
		must(t, "Migrate again", s.Migrate(ctx))
		must(t, "Close", s.Close())

		s = openStore(t, open)
		must(t, "Migrate after reopen", s.Migrate(ctx))
		v2, err := s.SchemaVersion(ctx)
		must(t, "SchemaVersion after reopen", err)
		if v1 != v2 {
			t.Errorf("SchemaVersion changed from %d to %d by migrating again", v1, v2)
		}
	})

	t.Run("ReopenPersists", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := openStore(t, open)
		f := mkFinding("R1", "ns", "w", finding.SeverityHigh, "")
		_, err := s.ReplaceFindings(ctx, "cluster:prod", at(0), []finding.Finding{f})
		must(t, "ReplaceFindings", err)
		scan := mkScan("sha256:a", at(1), true)
		must(t, "PutScan", s.PutScan(ctx, scan))
		ev := mkEvent("prod", "a1", "ResponseComplete", 2)
		_, err = s.AppendAuditEvents(ctx, []store.AuditEvent{ev})
		must(t, "AppendAuditEvents", err)
		al := mkAlert("al-1", "r", "prod", finding.SeverityHigh, 3)
		must(t, "PutAlert", s.PutAlert(ctx, al))
		must(t, "Close", s.Close())

		s = openStore(t, open)
		gotF, err := s.ListFindings(ctx, store.FindingFilter{})
		must(t, "ListFindings", err)
		if diff := cmp.Diff([]store.FindingRecord{{Scope: "cluster:prod", FirstSeen: at(0), LastSeen: at(0), Finding: f}}, gotF, diffOpts); diff != "" {
			t.Errorf("findings after reopen (-want +got):\n%s", diff)
		}
		gotS, err := s.LatestScan(ctx, "sha256:a")
		must(t, "LatestScan", err)
		if diff := cmp.Diff(scan, gotS, diffOpts); diff != "" {
			t.Errorf("scan after reopen (-want +got):\n%s", diff)
		}
		gotE, err := s.QueryAuditEvents(ctx, store.AuditQuery{})
		must(t, "QueryAuditEvents", err)
		if diff := cmp.Diff([]store.AuditEvent{ev}, gotE, diffOpts); diff != "" {
			t.Errorf("audit events after reopen (-want +got):\n%s", diff)
		}
		n, err := s.AppendAuditEvents(ctx, []store.AuditEvent{ev})
		must(t, "AppendAuditEvents after reopen", err)
		if n != 0 {
			t.Errorf("event appended before the restart counted as new after it")
		}
		gotA, err := s.GetAlert(ctx, "al-1")
		must(t, "GetAlert", err)
		if diff := cmp.Diff(al, gotA, diffOpts); diff != "" {
			t.Errorf("alert after reopen (-want +got):\n%s", diff)
		}
	})

	t.Run("CloseTwice", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		must(t, "Close", s.Close())
		must(t, "second Close", s.Close())
	})
}

// hostile are strings that break naive SQL building, LIKE patterns,
// collations or encodings.
var hostile = []string{
	"'; DROP TABLE findings; --",
	`"quoted" \back\slash`,
	"%",
	"_",
	"ünïcödé 日本語 🚀",
	"👩‍💻 zero\u200dwidth joiner",
	"\u202eright-to-left override",
	"line\nbreak\ttab\r",
	"NULL",
	"",
	strings.Repeat("long", 16<<10),
}

func testHostile(t *testing.T, open opener) {
	t.Run("RoundTripAndMatch", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		var events []store.AuditEvent
		for i, h := range hostile {
			f := mkFinding("rule"+h, h, "n", finding.SeverityHigh, "")
			f.Title, f.Message = h, h
			_, err := s.ReplaceFindings(ctx, "scope"+h, at(i), []finding.Finding{f})
			must(t, "ReplaceFindings", err)
			e := mkEvent("c"+h, "id"+h, "ResponseComplete", i)
			e.User, e.Verb, e.Namespace, e.Name = h, "verb"+h, "ns"+h, h
			events = append(events, e)
			a := mkAlert("alert"+h, "rule"+h, "cluster"+h, finding.SeverityLow, i)
			a.Title = h
			must(t, "PutAlert", s.PutAlert(ctx, a))
			r := mkScan("sha256:"+h, at(i), true)
			r.ImageRef = h
			must(t, "PutScan", s.PutScan(ctx, r))
		}
		_, err := s.AppendAuditEvents(ctx, events)
		must(t, "AppendAuditEvents", err)

		for i, h := range hostile {
			fs, err := s.ListFindings(ctx, store.FindingFilter{Scope: "scope" + h, RuleID: "rule" + h})
			must(t, "ListFindings", err)
			if len(fs) != 1 || fs[0].Finding.Title != h || fs[0].Finding.Resource.Namespace != h {
				t.Errorf("hostile string %d: ListFindings by scope and rule found %d findings", i, len(fs))
			}
			if h != "" {
				fs, err = s.ListFindings(ctx, store.FindingFilter{Namespace: h})
				must(t, "ListFindings", err)
				if len(fs) != 1 {
					t.Errorf("hostile string %d: ListFindings by namespace found %d findings, want 1", i, len(fs))
				}
			}
			es, err := s.QueryAuditEvents(ctx, store.AuditQuery{Cluster: "c" + h, Verb: "verb" + h, Namespace: "ns" + h, AuditIDs: []string{"id" + h}})
			must(t, "QueryAuditEvents", err)
			if diff := cmp.Diff(events[i:i+1], es, diffOpts); diff != "" {
				t.Errorf("hostile string %d: QueryAuditEvents (-want +got):\n%s", i, diff)
			}
			a, err := s.GetAlert(ctx, "alert"+h)
			must(t, "GetAlert", err)
			if a.Title != h || a.Cluster != "cluster"+h {
				t.Errorf("hostile string %d: alert came back as %q / %q", i, a.Title, a.Cluster)
			}
			as, err := s.ListAlerts(ctx, store.AlertFilter{Cluster: "cluster" + h, RuleID: "rule" + h})
			must(t, "ListAlerts", err)
			if len(as) != 1 {
				t.Errorf("hostile string %d: ListAlerts found %d alerts, want 1", i, len(as))
			}
			r, err := s.LatestScan(ctx, "sha256:"+h)
			must(t, "LatestScan", err)
			if r.ImageRef != h {
				t.Errorf("hostile string %d: image ref came back as %q", i, r.ImageRef)
			}
		}
	})

	t.Run("BytewiseOrder", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ids := []string{"a", "B", "_", "é", "Z", "aa", "A-1", "a-1", "ß", "1"}
		for _, id := range ids {
			must(t, "PutAlert", s.PutAlert(t.Context(), mkAlert(id, "r", "c", finding.SeverityLow, 0)))
		}
		got, err := s.ListAlerts(t.Context(), store.AlertFilter{})
		must(t, "ListAlerts", err)
		want := append([]string(nil), ids...)
		sort.Strings(want)
		if diff := cmp.Diff(want, alertIDs(got)); diff != "" {
			t.Errorf("alerts with equal times are not in bytewise ID order (-want +got):\n%s", diff)
		}
	})
}
