package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/palisade-sec/palisade/internal/store"
)

// PutScan stores rec; see store.ScanStore.
func (s *Store) PutScan(ctx context.Context, rec store.ScanRecord) error {
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("put scan: %w", err)
	}
	c := rec.Summary
	_, err := s.w.ExecContext(ctx, `INSERT OR REPLACE INTO scans
		(image_digest, scanned_at, image_ref, policy_digest, advisory_db_time, passed,
		 count_critical, count_high, count_medium, count_low, count_info, count_unknown, report)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rec.ImageDigest, micros(rec.ScannedAt), rec.ImageRef, rec.PolicyDigest, micros(rec.AdvisoryDBTime), rec.Passed,
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
	row := s.r.QueryRowContext(ctx, "SELECT "+scanColumns+", report FROM scans WHERE image_digest = ? ORDER BY scanned_at DESC LIMIT 1", imageDigest)
	rec, err := scanScan(row, true)
	if errors.Is(err, sql.ErrNoRows) {
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
	var w where
	w.addIf(f.ImageDigest != "", "image_digest = ?", f.ImageDigest)
	q := "SELECT " + cols + " FROM scans" + w.String() + " ORDER BY scanned_at DESC, image_digest LIMIT ?"
	rows, err := s.r.QueryContext(ctx, q, append(w.args, noLimit(f.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("list scans: %w", err)
	}
	defer rows.Close()
	var out []store.ScanRecord
	for rows.Next() {
		rec, err := scanScan(rows, f.IncludeReport)
		if err != nil {
			return nil, fmt.Errorf("list scans: %w", err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list scans: %w", err)
	}
	return out, nil
}

// scanScan reads one scans row selected with scanColumns (and the report
// when withReport).
func scanScan(row interface{ Scan(...any) error }, withReport bool) (store.ScanRecord, error) {
	var (
		rec         store.ScanRecord
		at, advTime int64
		c           = &rec.Summary
	)
	dest := []any{&rec.ImageDigest, &at, &rec.ImageRef, &rec.PolicyDigest, &advTime, &rec.Passed,
		&c.Critical, &c.High, &c.Medium, &c.Low, &c.Info, &c.Unknown}
	if withReport {
		dest = append(dest, &rec.Report)
	}
	if err := row.Scan(dest...); err != nil {
		return store.ScanRecord{}, err
	}
	rec.ScannedAt, rec.AdvisoryDBTime = fromMicros(at), fromMicros(advTime)
	rec.Report = nilIfEmpty(rec.Report)
	return rec, nil
}
