package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
)

// PutAlert creates or updates an alert, keeping an existing alert's status
// and creation time; see store.AlertStore.
func (s *Store) PutAlert(ctx context.Context, a store.Alert) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("put alert: %w", err)
	}
	return upsertAlert(ctx, s.w, a)
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// upsertAlert writes a validated alert; see PutAlert.
func upsertAlert(ctx context.Context, db execer, a store.Alert) error {
	if a.Status == "" {
		a.Status = store.AlertOpen
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	evidence, err := json.Marshal(nonNilStrings(a.EvidenceAuditIDs))
	if err != nil {
		return fmt.Errorf("put alert %q: encode evidence: %w", a.ID, err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO alerts
		(id, rule_id, severity, cluster, title, created_at, updated_at, status, evidence, raw)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			rule_id = excluded.rule_id, severity = excluded.severity, cluster = excluded.cluster,
			title = excluded.title, updated_at = excluded.updated_at,
			evidence = excluded.evidence, raw = excluded.raw`,
		a.ID, a.RuleID, int(a.Severity), a.Cluster, a.Title, micros(a.CreatedAt), micros(a.UpdatedAt),
		string(a.Status), string(evidence), nonNil(a.Raw))
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
	a, err := scanAlert(s.r.QueryRowContext(ctx, "SELECT "+alertColumns+" FROM alerts WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
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
	var w where
	w.addIf(f.Cluster != "", "cluster = ?", f.Cluster)
	w.addIf(f.RuleID != "", "rule_id = ?", f.RuleID)
	w.addIf(f.Status != "", "status = ?", string(f.Status))
	w.addIf(f.MinSeverity > finding.SeverityUnknown, "severity >= ?", int(f.MinSeverity))
	w.addIf(!f.Since.IsZero(), "created_at >= ?", micros(f.Since))
	w.addIf(!f.Until.IsZero(), "created_at < ?", micros(f.Until))
	q := "SELECT " + alertColumns + " FROM alerts" + w.String() + " ORDER BY created_at DESC, id LIMIT ? OFFSET ?"
	rows, err := s.r.QueryContext(ctx, q, append(w.args, noLimit(f.Limit), f.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []store.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// UpdateAlertStatus sets an alert's status; see store.AlertStore.
func (s *Store) UpdateAlertStatus(ctx context.Context, id string, status store.AlertStatus, at time.Time) error {
	if err := store.ValidateStatusUpdate(id, status); err != nil {
		return fmt.Errorf("update alert status: %w", err)
	}
	res, err := s.w.ExecContext(ctx, "UPDATE alerts SET status = ?, updated_at = ? WHERE id = ?", string(status), micros(at), id)
	if err != nil {
		return fmt.Errorf("update status of alert %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update status of alert %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("update status of alert %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// scanAlert reads one alerts row selected with alertColumns.
func scanAlert(row interface{ Scan(...any) error }) (store.Alert, error) {
	var (
		a                store.Alert
		severity         int
		created, updated int64
		status, evidence string
	)
	if err := row.Scan(&a.ID, &a.RuleID, &severity, &a.Cluster, &a.Title, &created, &updated,
		&status, &evidence, &a.Raw); err != nil {
		return store.Alert{}, err
	}
	if err := json.Unmarshal([]byte(evidence), &a.EvidenceAuditIDs); err != nil {
		return store.Alert{}, fmt.Errorf("decode evidence of alert %q: %w", a.ID, err)
	}
	if len(a.EvidenceAuditIDs) == 0 {
		a.EvidenceAuditIDs = nil
	}
	a.Severity = finding.Severity(severity)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	a.Status = store.AlertStatus(status)
	a.Raw = nilIfEmpty(a.Raw)
	return a, nil
}

// nonNilStrings returns ss, or an empty slice for nil, so that it encodes
// as a JSON array.
func nonNilStrings(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
