package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
)

// PutAlert creates or updates an alert, keeping an existing alert's status
// and creation time; see store.AlertStore.
func (s *Store) PutAlert(ctx context.Context, a store.Alert) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("put alert: %w", err)
	}
	return upsertAlert(ctx, s.pool, a)
}

// upsertAlert writes a validated alert; see PutAlert.
func upsertAlert(ctx context.Context, db execer, a store.Alert) error {
	if a.Status == "" {
		a.Status = store.AlertOpen
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	_, err := db.Exec(ctx, `INSERT INTO alerts
		(id, rule_id, severity, cluster, title, created_at, updated_at, status, evidence, raw)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET
			rule_id = excluded.rule_id, severity = excluded.severity, cluster = excluded.cluster,
			title = excluded.title, updated_at = excluded.updated_at,
			evidence = excluded.evidence, raw = excluded.raw`,
		a.ID, a.RuleID, int(a.Severity), a.Cluster, a.Title, ts(a.CreatedAt), ts(a.UpdatedAt),
		string(a.Status), nonNil(a.EvidenceAuditIDs), nonNil(a.Raw))
	if err != nil {
		return fmt.Errorf("put alert %q: %w", a.ID, err)
	}
	return nil
}

const alertColumns = "id, rule_id, severity, cluster, title, created_at, updated_at, status, evidence, raw"

// GetAlert returns one alert; see store.AlertStore.
func (s *Store) GetAlert(ctx context.Context, id string) (store.Alert, error) {
	if err := store.ValidateKey("alert ID", id); err != nil {
		return store.Alert{}, fmt.Errorf("get alert: %w", err)
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+alertColumns+" FROM alerts WHERE id = $1", id)
	a, err := pgx.CollectExactlyOneRow(rows, alertRow)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("get alert %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("get alert %q: %w", id, err)
	}
	return a, nil
}

// ListAlerts returns the alerts matching f; see store.AlertStore.
func (s *Store) ListAlerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	var q query
	q.addIf(f.Cluster != "", "cluster = ?", f.Cluster)
	q.addIf(f.RuleID != "", "rule_id = ?", f.RuleID)
	q.addIf(f.Status != "", "status = ?", string(f.Status))
	q.addIf(f.MinSeverity > finding.SeverityUnknown, "severity >= ?", int(f.MinSeverity))
	q.addIf(!f.Since.IsZero(), "created_at >= ?", ts(f.Since))
	q.addIf(!f.Until.IsZero(), "created_at < ?", ts(f.Until))
	sql := "SELECT " + alertColumns + " FROM alerts" + q.where() +
		" ORDER BY created_at DESC, id LIMIT " + q.arg(limit(f.Limit)) + " OFFSET " + q.arg(f.Offset)
	rows, _ := s.pool.Query(ctx, sql, q.args...)
	out, err := pgx.CollectRows(rows, alertRow)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return nilIfEmpty(out), nil
}

// UpdateAlertStatus sets an alert's status; see store.AlertStore.
func (s *Store) UpdateAlertStatus(ctx context.Context, id string, status store.AlertStatus, at time.Time) error {
	if err := store.ValidateStatusUpdate(id, status); err != nil {
		return fmt.Errorf("update alert status: %w", err)
	}
	tag, err := s.pool.Exec(ctx, "UPDATE alerts SET status = $1, updated_at = $2 WHERE id = $3", string(status), ts(at), id)
	if err != nil {
		return fmt.Errorf("update status of alert %q: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("update status of alert %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// alertRow reads one alerts row selected with alertColumns.
func alertRow(row pgx.CollectableRow) (store.Alert, error) {
	var (
		a        store.Alert
		severity int
		status   string
	)
	if err := row.Scan(&a.ID, &a.RuleID, &severity, &a.Cluster, &a.Title, &a.CreatedAt, &a.UpdatedAt,
		&status, &a.EvidenceAuditIDs, &a.Raw); err != nil {
		return store.Alert{}, err
	}
	a.Severity = finding.Severity(severity)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	a.Status = store.AlertStatus(status)
	a.EvidenceAuditIDs = nilIfEmpty(a.EvidenceAuditIDs)
	a.Raw = nilIfEmpty(a.Raw)
	return a, nil
}
