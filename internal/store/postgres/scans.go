package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-sec/palisade/internal/store"
)

// PutScan stores rec; see store.ScanStore.
func (s *Store) PutScan(ctx context.Context, rec store.ScanRecord) error {
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("put scan: %w", err)
	}
	c := rec.Summary
	_, err := s.pool.Exec(ctx, `INSERT INTO scans
		(image_digest, scanned_at, image_ref, policy_digest, advisory_db_time, passed,
		 count_critical, count_high, count_medium, count_low, count_info, count_unknown, report)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (image_digest, scanned_at) DO UPDATE SET
			image_ref = excluded.image_ref, policy_digest = excluded.policy_digest,
			advisory_db_time = excluded.advisory_db_time, passed = excluded.passed,
			count_critical = excluded.count_critical, count_high = excluded.count_high,
			count_medium = excluded.count_medium, count_low = excluded.count_low,
			count_info = excluded.count_info, count_unknown = excluded.count_unknown,
			report = excluded.report`,
		rec.ImageDigest, ts(rec.ScannedAt), rec.ImageRef, rec.PolicyDigest, ts(rec.AdvisoryDBTime), rec.Passed,
		c.Critical, c.High, c.Medium, c.Low, c.Info, c.Unknown, nonNil(rec.Report))
	if err != nil {
		return fmt.Errorf("put scan of %s: %w", rec.ImageDigest, err)
	}
	return nil
}

const scanColumns = `image_digest, scanned_at, image_ref, policy_digest, advisory_db_time, passed,
	count_critical, count_high, count_medium, count_low, count_info, count_unknown`

// LatestScan returns the most recent scan of an image; see store.ScanStore.
func (s *Store) LatestScan(ctx context.Context, imageDigest string) (store.ScanRecord, error) {
	if err := store.ValidateKey("image digest", imageDigest); err != nil {
		return store.ScanRecord{}, fmt.Errorf("latest scan: %w", err)
	}
	rows, _ := s.pool.Query(ctx, "SELECT "+scanColumns+", report FROM scans WHERE image_digest = $1 ORDER BY scanned_at DESC LIMIT 1", imageDigest)
	rec, err := pgx.CollectExactlyOneRow(rows, scanRow(true))
	if errors.Is(err, pgx.ErrNoRows) {
		return rec, fmt.Errorf("latest scan of %s: %w", imageDigest, store.ErrNotFound)
	}
	if err != nil {
		return rec, fmt.Errorf("latest scan of %s: %w", imageDigest, err)
	}
	return rec, nil
}

// ListScans returns scans, most recent first; see store.ScanStore.
func (s *Store) ListScans(ctx context.Context, f store.ScanFilter) ([]store.ScanRecord, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("list scans: %w", err)
	}
	cols := scanColumns
	if f.IncludeReport {
		cols += ", report"
	}
	var q query
	q.addIf(f.ImageDigest != "", "image_digest = ?", f.ImageDigest)
	sql := "SELECT " + cols + " FROM scans" + q.where() + " ORDER BY scanned_at DESC, image_digest LIMIT " + q.arg(limit(f.Limit))
	rows, _ := s.pool.Query(ctx, sql, q.args...)
	out, err := pgx.CollectRows(rows, scanRow(f.IncludeReport))
	if err != nil {
		return nil, fmt.Errorf("list scans: %w", err)
	}
	return nilIfEmpty(out), nil
}

// scanRow reads one scans row selected with scanColumns (and the report
// when withReport).
func scanRow(withReport bool) pgx.RowToFunc[store.ScanRecord] {
	return func(row pgx.CollectableRow) (store.ScanRecord, error) {
		var rec store.ScanRecord
		c := &rec.Summary
		dest := []any{&rec.ImageDigest, &rec.ScannedAt, &rec.ImageRef, &rec.PolicyDigest, &rec.AdvisoryDBTime, &rec.Passed,
			&c.Critical, &c.High, &c.Medium, &c.Low, &c.Info, &c.Unknown}
		if withReport {
			dest = append(dest, &rec.Report)
		}
		if err := row.Scan(dest...); err != nil {
			return store.ScanRecord{}, err
		}
		rec.ScannedAt, rec.AdvisoryDBTime = rec.ScannedAt.UTC(), rec.AdvisoryDBTime.UTC()
		rec.Report = nilIfEmpty(rec.Report)
		return rec, nil
	}
}
