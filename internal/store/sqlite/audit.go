package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/store"
)

// deleteChunk is how many audit events one retention DELETE removes, so that
// a large purge does not hold the write lock for long at a stretch.
const deleteChunk = 5000

// AppendAuditEvents stores events, skipping those already stored; see
// store.AuditStore.
func (s *Store) AppendAuditEvents(ctx context.Context, events []store.AuditEvent) (int, error) {
	if err := store.ValidateAuditEvents(events); err != nil {
		return 0, fmt.Errorf("append audit events: %w", err)
	}
	if len(events) == 0 {
		return 0, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("append audit events: begin: %w", err)
	}
	defer tx.Rollback()
	added, err := insertAuditEvents(ctx, tx, events)
	if err != nil {
		return 0, fmt.Errorf("append audit events: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("append audit events: commit: %w", err)
	}
	return added, nil
}

// insertChunk is how many events one INSERT statement carries: 11
// parameters each, far below SQLite's 32,766, and big enough that the
// per-statement cost of database/sql and the driver is spread thin.
const insertChunk = 100

const insertEventsHead = `INSERT INTO audit_events
	(cluster, audit_id, stage, received_at, event_time, verb, username, namespace, resource, name, raw) VALUES `

const insertEventsTail = ` ON CONFLICT (cluster, audit_id, stage) DO NOTHING`

// insertEventsSQL is the INSERT for n events.
func insertEventsSQL(n int) string {
	var b strings.Builder
	b.WriteString(insertEventsHead)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?)")
	}
	b.WriteString(insertEventsTail)
	return b.String()
}

// insertAuditEvents inserts validated events in tx, skipping those stored
// (also a repeat within events: the second row conflicts with the first),
// and returns how many were new.
func insertAuditEvents(ctx context.Context, tx *sql.Tx, events []store.AuditEvent) (int, error) {
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, 11*min(len(events), insertChunk))
	var added int64
	for len(events) > 0 {
		chunk := events[:min(len(events), insertChunk)]
		events = events[len(chunk):]
		args = args[:0]
		for i := range chunk {
			e := &chunk[i]
			args = append(args, e.Cluster, e.AuditID, e.Stage, micros(e.ReceivedAt), micros(e.EventTime),
				e.Verb, e.User, e.Namespace, e.Resource, e.Name, nonNil(e.Raw))
		}
		var (
			res sql.Result
			err error
		)
		if len(chunk) == insertChunk {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, insertEventsSQL(insertChunk)); err != nil {
					return 0, fmt.Errorf("prepare: %w", err)
				}
			}
			res, err = full.ExecContext(ctx, args...)
		} else {
			res, err = tx.ExecContext(ctx, insertEventsSQL(len(chunk)), args...)
		}
		if err != nil {
			return 0, fmt.Errorf("store events %s…: %w", chunk[0].AuditID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("store events %s…: %w", chunk[0].AuditID, err)
		}
		added += n
	}
	return int(added), nil
}

// QueryAuditEvents returns the events matching q; see store.AuditStore.
func (s *Store) QueryAuditEvents(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("query audit events: %w", err)
	}
	var w where
	w.addIf(!q.Since.IsZero(), "event_time >= ?", micros(q.Since))
	w.addIf(!q.Until.IsZero(), "event_time < ?", micros(q.Until))
	w.addIf(q.Cluster != "", "cluster = ?", q.Cluster)
	w.addIf(q.User != "", "username = ?", q.User)
	w.addIf(q.Verb != "", "verb = ?", q.Verb)
	w.addIf(q.Namespace != "", "namespace = ?", q.Namespace)
	if len(q.AuditIDs) > 0 {
		ids, err := json.Marshal(q.AuditIDs)
		if err != nil {
			return nil, fmt.Errorf("query audit events: encode audit IDs: %w", err)
		}
		w.addIf(true, "audit_id IN (SELECT value FROM json_each(?))", string(ids))
	}
	order := " ORDER BY event_time, cluster, audit_id, stage"
	if q.Descending {
		order = " ORDER BY event_time DESC, cluster DESC, audit_id DESC, stage DESC"
	}
	sqlText := `SELECT cluster, audit_id, stage, received_at, event_time, verb, username, namespace, resource, name, raw
		FROM audit_events` + w.String() + order + " LIMIT ?"
	rows, err := s.r.QueryContext(ctx, sqlText, append(w.args, noLimit(q.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("query audit events: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var (
			e               store.AuditEvent
			received, event int64
		)
		if err := rows.Scan(&e.Cluster, &e.AuditID, &e.Stage, &received, &event, &e.Verb, &e.User,
			&e.Namespace, &e.Resource, &e.Name, &e.Raw); err != nil {
			return nil, fmt.Errorf("query audit events: %w", err)
		}
		e.ReceivedAt, e.EventTime = fromMicros(received), fromMicros(event)
		e.Raw = nilIfEmpty(e.Raw)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query audit events: %w", err)
	}
	return out, nil
}

// DeleteAuditEventsBefore deletes events older than before, in chunks; see
// store.AuditStore.
func (s *Store) DeleteAuditEventsBefore(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("delete audit events before %s: %w", before.Format(time.RFC3339), err)
		}
		res, err := s.w.ExecContext(ctx, `DELETE FROM audit_events WHERE rowid IN
			(SELECT rowid FROM audit_events WHERE event_time < ? LIMIT ?)`, micros(before), deleteChunk)
		if err != nil {
			return total, fmt.Errorf("delete audit events before %s: %w", before.Format(time.RFC3339), err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("delete audit events before %s: %w", before.Format(time.RFC3339), err)
		}
		total += n
		if n < deleteChunk {
			return total, nil
		}
	}
}
