package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
)

func testAuditBatch(t *testing.T, open opener) {
	t.Run("EventsAndAlerts", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		evs := []store.AuditEvent{mkEvent("prod", "b1", "ResponseComplete", 0), mkEvent("prod", "b2", "ResponseComplete", 1)}
		alerts := []store.Alert{mkAlert("al-b2", "audit/z", "prod", finding.SeverityHigh, 1), mkAlert("al-b1", "audit/a", "prod", finding.SeverityLow, 0)}
		n, err := s.AppendAuditBatch(ctx, evs, alerts)
		must(t, "AppendAuditBatch", err)
		if n != 2 {
			t.Errorf("AppendAuditBatch = %d new events, want 2", n)
		}
		// A redelivered batch: events skipped, alerts updated in place
		// keeping their status, as PutAlert does.
		must(t, "UpdateAlertStatus", s.UpdateAlertStatus(ctx, "al-b1", store.AlertAcknowledged, at(5)))
		again := append([]store.AuditEvent{mkEvent("prod", "b3", "ResponseComplete", 2)}, evs...)
		redo := alerts[1]
		redo.Title, redo.UpdatedAt = "raised again", at(6)
		n, err = s.AppendAuditBatch(ctx, again, []store.Alert{redo})
		must(t, "AppendAuditBatch again", err)
		if n != 1 {
			t.Errorf("AppendAuditBatch again = %d new events, want 1", n)
		}
		got, err := s.QueryAuditEvents(ctx, store.AuditQuery{})
		must(t, "QueryAuditEvents", err)
		if diff := cmp.Diff([]string{"prod/b1/ResponseComplete", "prod/b2/ResponseComplete", "prod/b3/ResponseComplete"}, eventKeys(got)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		a, err := s.GetAlert(ctx, "al-b1")
		must(t, "GetAlert", err)
		if a.Title != "raised again" || a.Status != store.AlertAcknowledged || !a.CreatedAt.Equal(at(0)) {
			t.Errorf("alert after a second batch: title %q, status %s, created %v; want the new title, the kept status and creation time", a.Title, a.Status, a.CreatedAt)
		}
		list, err := s.ListAlerts(ctx, store.AlertFilter{})
		must(t, "ListAlerts", err)
		if diff := cmp.Diff([]string{"al-b2", "al-b1"}, alertIDs(list)); diff != "" {
			t.Errorf("alerts (-want +got):\n%s", diff)
		}
	})

	t.Run("AllOrNothing", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		bad := mkAlert("al-bad", "audit/a", "prod", finding.SeverityHigh, 0)
		bad.Title = "nul\x00byte"
		_, err := s.AppendAuditBatch(ctx, []store.AuditEvent{mkEvent("prod", "c1", "ResponseComplete", 0)},
			[]store.Alert{mkAlert("al-ok", "audit/a", "prod", finding.SeverityHigh, 0), bad})
		wantErr(t, "AppendAuditBatch with an invalid alert", err, store.ErrInvalid)
		badEvent := mkEvent("prod", "c2", "ResponseComplete", 0)
		badEvent.User = "\xff"
		_, err = s.AppendAuditBatch(ctx, []store.AuditEvent{badEvent}, []store.Alert{mkAlert("al-ok", "audit/a", "prod", finding.SeverityHigh, 0)})
		wantErr(t, "AppendAuditBatch with an invalid event", err, store.ErrInvalid)
		evs, err := s.QueryAuditEvents(ctx, store.AuditQuery{})
		must(t, "QueryAuditEvents", err)
		alerts, err := s.ListAlerts(ctx, store.AlertFilter{})
		must(t, "ListAlerts", err)
		if len(evs) != 0 || len(alerts) != 0 {
			t.Errorf("after rejected batches the store holds %d events and %d alerts, want none", len(evs), len(alerts))
		}
		n, err := s.AppendAuditBatch(ctx, nil, nil)
		if err != nil || n != 0 {
			t.Errorf("empty batch = %d, %v; want 0, nil", n, err)
		}
	})
}
