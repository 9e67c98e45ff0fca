package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/palisade-sec/palisade/internal/store"
)

// AppendAuditEvents stores events, skipping those already stored; see
// store.AuditStore. The batch goes in as one INSERT … SELECT FROM unnest, in
// key order: concurrent batches that overlap then take their row locks in
// the same order and cannot deadlock.
func (s *Store) AppendAuditEvents(ctx context.Context, events []store.AuditEvent) (int, error) {
	if err := store.ValidateAuditEvents(events); err != nil {
		return 0, fmt.Errorf("append audit events: %w", err)
	}
	if len(events) == 0 {
		return 0, nil
	}
	n, err := insertAuditEvents(ctx, s.pool, events)
	if err != nil {
		return 0, fmt.Errorf("append audit events: %w", err)
	}
	return n, nil
}

// execer is a *pgxpool.Pool or a pgx.Tx.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// insertAuditEvents inserts validated events, skipping those stored, and
// returns how many were new; see AppendAuditEvents.
func insertAuditEvents(ctx context.Context, db execer, events []store.AuditEvent) (int, error) {
	sorted := make([]*store.AuditEvent, len(events))
	for i := range events {
		sorted[i] = &events[i]
	}
	slices.SortStableFunc(sorted, func(a, b *store.AuditEvent) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.AuditID, b.AuditID), cmp.Compare(a.Stage, b.Stage))
	})
	n := len(sorted)
	var (
		clusters, ids, stages, verbs = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		users, namespaces, resources = make([]string, n), make([]string, n), make([]string, n)
		names                        = make([]string, n)
		received, eventTimes         = make([]time.Time, n), make([]time.Time, n)
		raws                         = make([][]byte, n)
	)
	for i, e := range sorted {
		clusters[i], ids[i], stages[i], verbs[i] = e.Cluster, e.AuditID, e.Stage, e.Verb
		users[i], namespaces[i], resources[i], names[i] = e.User, e.Namespace, e.Resource, e.Name
		received[i], eventTimes[i], raws[i] = ts(e.ReceivedAt), ts(e.EventTime), nonNil(e.Raw)
	}
	tag, err := db.Exec(ctx, `INSERT INTO audit_events
		(cluster, audit_id, stage, received_at, event_time, verb, username, namespace, resource, name, raw)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[],
			$6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bytea[])
		ON CONFLICT (cluster, audit_id, stage) DO NOTHING`,
		clusters, ids, stages, received, eventTimes, verbs, users, namespaces, resources, names, raws)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// QueryAuditEvents returns the events matching q; see store.AuditStore.
func (s *Store) QueryAuditEvents(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("query audit events: %w", err)
	}
	var b query
	b.addIf(!q.Since.IsZero(), "event_time >= ?", ts(q.Since))
	b.addIf(!q.Until.IsZero(), "event_time < ?", ts(q.Until))
	b.addIf(q.Cluster != "", "cluster = ?", q.Cluster)
	b.addIf(q.User != "", "username = ?", q.User)
	b.addIf(q.Verb != "", "verb = ?", q.Verb)
	b.addIf(q.Namespace != "", "namespace = ?", q.Namespace)
	b.addIf(len(q.AuditIDs) > 0, "audit_id = ANY(?::text[])", q.AuditIDs)
	order := " ORDER BY event_time, cluster, audit_id, stage"
	if q.Descending {
		order = " ORDER BY event_time DESC, cluster DESC, audit_id DESC, stage DESC"
	}
	sql := `SELECT cluster, audit_id, stage, received_at, event_time, verb, username, namespace, resource, name, raw
		FROM audit_events` + b.where() + order + " LIMIT " + b.arg(limit(q.Limit))
	rows, _ := s.pool.Query(ctx, sql, b.args...)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AuditEvent, error) {
		var e store.AuditEvent
		if err := row.Scan(&e.Cluster, &e.AuditID, &e.Stage, &e.ReceivedAt, &e.EventTime, &e.Verb, &e.User,
			&e.Namespace, &e.Resource, &e.Name, &e.Raw); err != nil {
			return e, err
		}
		e.ReceivedAt, e.EventTime = e.ReceivedAt.UTC(), e.EventTime.UTC()
		e.Raw = nilIfEmpty(e.Raw)
		return e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("query audit events: %w", err)
	}
	return nilIfEmpty(out), nil
}

// DeleteAuditEventsBefore deletes events older than before; see
// store.AuditStore.
func (s *Store) DeleteAuditEventsBefore(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM audit_events WHERE event_time < $1", ts(before))
	if err != nil {
		return 0, fmt.Errorf("delete audit events before %s: %w", before.Format(time.RFC3339), err)
	}
	return tag.RowsAffected(), nil
}
