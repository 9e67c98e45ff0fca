package storetest

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
)

func mkAlert(id, rule, cluster string, sev finding.Severity, minute int) store.Alert {
	return store.Alert{
		ID:               id,
		RuleID:           rule,
		Severity:         sev,
		Cluster:          cluster,
		Title:            "alert " + id,
		CreatedAt:        at(minute),
		UpdatedAt:        at(minute),
		EvidenceAuditIDs: []string{id + "-ev1", id + "-ev2"},
		Status:           store.AlertOpen,
		Raw:              []byte(fmt.Sprintf(`{"id":%q}`, id)),
	}
}

func alertIDs(as []store.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func testAlerts(t *testing.T, open opener) {
	t.Run("PutGet", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		a := mkAlert("al-1", "audit/exec-into-pod", "prod", finding.SeverityHigh, 0)
		must(t, "PutAlert", s.PutAlert(t.Context(), a))
		got, err := s.GetAlert(t.Context(), "al-1")
		must(t, "GetAlert", err)
		if diff := cmp.Diff(a, got, diffOpts); diff != "" {
			t.Errorf("GetAlert (-want +got):\n%s", diff)
		}
	})

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		a := store.Alert{ID: "bare", CreatedAt: at(3)}
		must(t, "PutAlert", s.PutAlert(t.Context(), a))
		got, err := s.GetAlert(t.Context(), "bare")
		must(t, "GetAlert", err)
		want := store.Alert{ID: "bare", CreatedAt: at(3), UpdatedAt: at(3), Status: store.AlertOpen}
		if diff := cmp.Diff(want, got, diffOpts); diff != "" {
			t.Errorf("GetAlert (-want +got):\n%s", diff)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		_, err := s.GetAlert(t.Context(), "missing")
		wantErr(t, "GetAlert", err, store.ErrNotFound)
		err = s.UpdateAlertStatus(t.Context(), "missing", store.AlertResolved, at(1))
		wantErr(t, "UpdateAlertStatus", err, store.ErrNotFound)
	})

	t.Run("PutKeepsStatusAndCreatedAt", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		must(t, "PutAlert", s.PutAlert(ctx, mkAlert("al-1", "r", "prod", finding.SeverityHigh, 0)))
		must(t, "UpdateAlertStatus", s.UpdateAlertStatus(ctx, "al-1", store.AlertAcknowledged, at(5)))

		again := mkAlert("al-1", "r", "prod", finding.SeverityCritical, 10) // fired again, more evidence
		again.EvidenceAuditIDs = append(again.EvidenceAuditIDs, "al-1-ev3")
		must(t, "PutAlert again", s.PutAlert(ctx, again))
		got, err := s.GetAlert(ctx, "al-1")
		must(t, "GetAlert", err)
		want := again
		want.CreatedAt, want.Status = at(0), store.AlertAcknowledged
		if diff := cmp.Diff(want, got, diffOpts); diff != "" {
			t.Errorf("GetAlert (-want +got):\n%s", diff)
		}
	})

	t.Run("UpdateStatus", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		must(t, "PutAlert", s.PutAlert(ctx, mkAlert("al-1", "r", "prod", finding.SeverityHigh, 0)))
		for i, st := range []store.AlertStatus{store.AlertAcknowledged, store.AlertResolved, store.AlertOpen} {
			must(t, "UpdateAlertStatus", s.UpdateAlertStatus(ctx, "al-1", st, at(i+1)))
			got, err := s.GetAlert(ctx, "al-1")
			must(t, "GetAlert", err)
			if got.Status != st || !got.UpdatedAt.Equal(at(i+1)) || !got.CreatedAt.Equal(at(0)) {
				t.Errorf("after update to %s: status %s, updated %v, created %v", st, got.Status, got.UpdatedAt, got.CreatedAt)
			}
		}
	})

	t.Run("List", func(t *testing.T) { t.Parallel(); testAlertList(t, open) })

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		bad := mkAlert("al-x", "r", "prod", finding.SeverityHigh, 0)
		bad.Status = "closed"
		wantErr(t, "PutAlert unknown status", s.PutAlert(ctx, bad), store.ErrInvalid)
		wantErr(t, "PutAlert empty ID", s.PutAlert(ctx, store.Alert{CreatedAt: at(0)}), store.ErrInvalid)
		badEvidence := mkAlert("al-y", "r", "prod", finding.SeverityHigh, 0)
		badEvidence.EvidenceAuditIDs = []string{"ok", "\xfe"}
		wantErr(t, "PutAlert invalid evidence", s.PutAlert(ctx, badEvidence), store.ErrInvalid)
		must(t, "PutAlert", s.PutAlert(ctx, mkAlert("al-1", "r", "prod", finding.SeverityHigh, 0)))
		wantErr(t, "UpdateAlertStatus unknown status", s.UpdateAlertStatus(ctx, "al-1", "closed", at(1)), store.ErrInvalid)
		wantErr(t, "UpdateAlertStatus empty ID", s.UpdateAlertStatus(ctx, "", store.AlertResolved, at(1)), store.ErrInvalid)
		_, err := s.GetAlert(ctx, "")
		wantErr(t, "GetAlert empty ID", err, store.ErrInvalid)
		for _, f := range []store.AlertFilter{{Status: "closed"}, {Limit: -1}, {Offset: -2}, {Cluster: "\x00"}} {
			_, err := s.ListAlerts(ctx, f)
			wantErr(t, fmt.Sprintf("ListAlerts(%+v)", f), err, store.ErrInvalid)
		}
		got, err := s.ListAlerts(ctx, store.AlertFilter{})
		must(t, "ListAlerts", err)
		if diff := cmp.Diff([]string{"al-1"}, alertIDs(got)); diff != "" {
			t.Errorf("stored alerts (-want +got):\n%s", diff)
		}
	})
}

func testAlertList(t *testing.T, open opener) {
	s := openStore(t, open)
	ctx := t.Context()
	for _, a := range []store.Alert{
		mkAlert("a1", "exec", "prod", finding.SeverityHigh, 0),
		mkAlert("a2", "secret-read", "prod", finding.SeverityCritical, 1),
		mkAlert("a3", "exec", "staging", finding.SeverityMedium, 2),
		mkAlert("a4", "exec", "prod", finding.SeverityLow, 2),
		mkAlert("a5", "rbac-escalation", "prod", finding.SeverityCritical, 3),
	} {
		must(t, "PutAlert", s.PutAlert(ctx, a))
	}
	must(t, "UpdateAlertStatus", s.UpdateAlertStatus(ctx, "a2", store.AlertResolved, at(4)))
	must(t, "UpdateAlertStatus", s.UpdateAlertStatus(ctx, "a4", store.AlertAcknowledged, at(4)))
	for _, tc := range []struct {
		name   string
		filter store.AlertFilter
		want   []string
	}{
		{"all, newest first", store.AlertFilter{}, []string{"a5", "a3", "a4", "a2", "a1"}},
		{"cluster", store.AlertFilter{Cluster: "staging"}, []string{"a3"}},
		{"rule", store.AlertFilter{RuleID: "exec"}, []string{"a3", "a4", "a1"}},
		{"status open", store.AlertFilter{Status: store.AlertOpen}, []string{"a5", "a3", "a1"}},
		{"status resolved", store.AlertFilter{Status: store.AlertResolved}, []string{"a2"}},
		{"min severity", store.AlertFilter{MinSeverity: finding.SeverityHigh}, []string{"a5", "a2", "a1"}},
		{"since is inclusive", store.AlertFilter{Since: at(2)}, []string{"a5", "a3", "a4"}},
		{"until is exclusive", store.AlertFilter{Until: at(2)}, []string{"a2", "a1"}},
		{"limit", store.AlertFilter{Limit: 2}, []string{"a5", "a3"}},
		{"limit and offset", store.AlertFilter{Limit: 2, Offset: 2}, []string{"a4", "a2"}},
		{"combined", store.AlertFilter{Cluster: "prod", RuleID: "exec", Status: store.AlertOpen}, []string{"a1"}},
		{"no match", store.AlertFilter{Cluster: "dev"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListAlerts(ctx, tc.filter)
			must(t, "ListAlerts", err)
			if diff := cmp.Diff(tc.want, alertIDs(got)); diff != "" {
				t.Errorf("ListAlerts(%+v) (-want +got):\n%s", tc.filter, diff)
			}
		})
	}
}
