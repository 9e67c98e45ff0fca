package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
)

// scopeLockClass is the first key of the transaction advisory locks that
// serialise ReplaceFindings per scope (the second is the scope's hash), so
// that two replicas replacing one scope at once cannot interleave.
const scopeLockClass int32 = 0x70616c00

// ReplaceFindings makes fs the complete set of findings of scope; see
// store.FindingStore.
func (s *Store) ReplaceFindings(ctx context.Context, scope string, seenAt time.Time, fs []finding.Finding) (store.ReplaceResult, error) {
	var res store.ReplaceResult
	fs, err := store.PrepareFindings(scope, seenAt, fs)
	if err != nil {
		return res, fmt.Errorf("replace findings: %w", err)
	}
	n := len(fs)
	var (
		ids, rules, statuses, clusters, namespaces, bodies = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		severities                                         = make([]int32, n)
	)
	for i := range fs {
		f := &fs[i]
		b, err := json.Marshal(f)
		if err != nil {
			return res, fmt.Errorf("replace findings of %q: encode finding %s: %w", scope, f.ID, err)
		}
		ids[i], rules[i], statuses[i], bodies[i] = f.ID, f.RuleID, string(f.Status), string(b)
		clusters[i], namespaces[i], severities[i] = f.Resource.Cluster, f.Resource.Namespace, int32(f.Severity)
	}

	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", scopeLockClass, scope); err != nil {
			return fmt.Errorf("lock scope: %w", err)
		}
		rows, _ := tx.Query(ctx, "SELECT id FROM findings WHERE scope = $1", scope)
		oldIDs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("read current findings: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO findings
			(scope, id, rule_id, severity, status, cluster, namespace, first_seen, last_seen, body)
			SELECT $1, u.id, u.rule_id, u.severity, u.status, u.cluster, u.namespace, $2, $2, u.body
			FROM unnest($3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[])
				AS u (id, rule_id, severity, status, cluster, namespace, body)
			ON CONFLICT (scope, id) DO UPDATE SET
				rule_id = excluded.rule_id, severity = excluded.severity, status = excluded.status,
				cluster = excluded.cluster, namespace = excluded.namespace,
				last_seen = excluded.last_seen, body = excluded.body`,
			scope, ts(seenAt), ids, rules, severities, statuses, clusters, namespaces, bodies); err != nil {
			return fmt.Errorf("store findings: %w", err)
		}
		current := make(map[string]bool, n)
		for _, id := range ids {
			current[id] = true
		}
		var removed []string
		for _, id := range oldIDs {
			if current[id] {
				res.Kept++
			} else {
				removed = append(removed, id)
			}
		}
		res.New, res.Removed = n-res.Kept, len(removed)
		if len(removed) > 0 {
			if _, err := tx.Exec(ctx, "DELETE FROM findings WHERE scope = $1 AND id = ANY($2::text[])", scope, removed); err != nil {
				return fmt.Errorf("remove findings: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return store.ReplaceResult{}, fmt.Errorf("replace findings of %q: %w", scope, err)
	}
	return res, nil
}

// ListFindings returns the findings matching f; see store.FindingStore.
func (s *Store) ListFindings(ctx context.Context, f store.FindingFilter) ([]store.FindingRecord, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	var q query
	q.addIf(f.Scope != "", "scope = ?", f.Scope)
	q.addIf(f.MinSeverity > finding.SeverityUnknown, "severity >= ?", int(f.MinSeverity))
	q.addIf(f.Status != "", "status = ?", string(f.Status))
	q.addIf(f.RuleID != "", "rule_id = ?", f.RuleID)
	q.addIf(f.Namespace != "", "namespace = ?", f.Namespace)
	sql := "SELECT scope, first_seen, last_seen, body FROM findings" + q.where() +
		" ORDER BY severity DESC, rule_id, scope, id LIMIT " + q.arg(limit(f.Limit)) + " OFFSET " + q.arg(f.Offset)
	rows, err := s.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.FindingRecord, error) {
		var (
			r    store.FindingRecord
			body string
		)
		if err := row.Scan(&r.Scope, &r.FirstSeen, &r.LastSeen, &body); err != nil {
			return r, err
		}
		if err := json.Unmarshal([]byte(body), &r.Finding); err != nil {
			return r, fmt.Errorf("decode finding in scope %q: %w", r.Scope, err)
		}
		r.FirstSeen, r.LastSeen = r.FirstSeen.UTC(), r.LastSeen.UTC()
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	return nilIfEmpty(out), nil
}
