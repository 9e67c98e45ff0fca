package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
)

// ReplaceFindings makes fs the complete set of findings of scope; see
// store.FindingStore.
func (s *Store) ReplaceFindings(ctx context.Context, scope string, seenAt time.Time, fs []finding.Finding) (store.ReplaceResult, error) {
	var res store.ReplaceResult
	fs, err := store.PrepareFindings(scope, seenAt, fs)
	if err != nil {
		return res, fmt.Errorf("replace findings: %w", err)
	}
	bodies := make([][]byte, len(fs))
	for i := range fs {
		if bodies[i], err = json.Marshal(&fs[i]); err != nil {
			return res, fmt.Errorf("replace findings of %q: encode finding %s: %w", scope, fs[i].ID, err)
		}
	}
	seen := micros(seenAt)

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("replace findings of %q: begin: %w", scope, err)
	}
	defer tx.Rollback()
	old, err := scopeIDs(ctx, tx, scope)
	if err != nil {
		return res, fmt.Errorf("replace findings of %q: %w", scope, err)
	}
	upsert, err := tx.PrepareContext(ctx, `INSERT INTO findings
		(scope, id, rule_id, severity, status, cluster, namespace, first_seen, last_seen, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (scope, id) DO UPDATE SET
			rule_id = excluded.rule_id, severity = excluded.severity, status = excluded.status,
			cluster = excluded.cluster, namespace = excluded.namespace,
			last_seen = excluded.last_seen, body = excluded.body`)
	if err != nil {
		return res, fmt.Errorf("replace findings of %q: prepare: %w", scope, err)
	}
	defer upsert.Close()
	for i := range fs {
		f := &fs[i]
		if _, err := upsert.ExecContext(ctx, scope, f.ID, f.RuleID, int(f.Severity), string(f.Status),
			f.Resource.Cluster, f.Resource.Namespace, seen, seen, bodies[i]); err != nil {
			return res, fmt.Errorf("replace findings of %q: store finding %s: %w", scope, f.ID, err)
		}
		if old[f.ID] {
			res.Kept++
			delete(old, f.ID)
		} else {
			res.New++
		}
	}
	for id := range old {
		if _, err := tx.ExecContext(ctx, "DELETE FROM findings WHERE scope = ? AND id = ?", scope, id); err != nil {
			return res, fmt.Errorf("replace findings of %q: remove finding %s: %w", scope, id, err)
		}
		res.Removed++
	}
	if err := tx.Commit(); err != nil {
		return store.ReplaceResult{}, fmt.Errorf("replace findings of %q: commit: %w", scope, err)
	}
	return res, nil
}

// scopeIDs returns the IDs of the findings scope holds now.
func scopeIDs(ctx context.Context, tx *sql.Tx, scope string) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id FROM findings WHERE scope = ?", scope)
	if err != nil {
		return nil, fmt.Errorf("read current findings: %w", err)
	}
	defer rows.Close()
	ids := make(map[string]bool)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read current findings: %w", err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read current findings: %w", err)
	}
	return ids, nil
}

// ListFindings returns the findings matching f; see store.FindingStore.
func (s *Store) ListFindings(ctx context.Context, f store.FindingFilter) ([]store.FindingRecord, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	var w where
	w.addIf(f.Scope != "", "scope = ?", f.Scope)
	w.addIf(f.MinSeverity > finding.SeverityUnknown, "severity >= ?", int(f.MinSeverity))
	w.addIf(f.Status != "", "status = ?", string(f.Status))
	w.addIf(f.RuleID != "", "rule_id = ?", f.RuleID)
	w.addIf(f.Namespace != "", "namespace = ?", f.Namespace)
	q := "SELECT scope, first_seen, last_seen, body FROM findings" + w.String() +
		" ORDER BY severity DESC, rule_id, scope, id LIMIT ? OFFSET ?"
	rows, err := s.r.QueryContext(ctx, q, append(w.args, noLimit(f.Limit), f.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	defer rows.Close()
	var out []store.FindingRecord
	for rows.Next() {
		var (
			r           store.FindingRecord
			first, last int64
			body        []byte
		)
		if err := rows.Scan(&r.Scope, &first, &last, &body); err != nil {
			return nil, fmt.Errorf("list findings: %w", err)
		}
		if err := json.Unmarshal(body, &r.Finding); err != nil {
			return nil, fmt.Errorf("list findings: decode finding in scope %q: %w", r.Scope, err)
		}
		r.FirstSeen, r.LastSeen = fromMicros(first), fromMicros(last)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	return out, nil
}

// where collects the conditions of a WHERE clause and their arguments.
type where struct {
	conds []string
	args  []any
}

// addIf adds cond with its argument when ok.
func (w *where) addIf(ok bool, cond string, arg any) {
	if ok {
		w.conds = append(w.conds, cond)
		w.args = append(w.args, arg)
	}
}

// String returns the clause, with a leading space, or "" for no conditions.
func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}
