// Package store is the persistence interface every Palisade capability shares:
// findings per scope, image scan results, Kubernetes audit events and alerts.
//
// Two implementations satisfy it with the same semantics: store/sqlite (the
// embedded default, one file) and store/postgres (for N replicas). Neither is
// imported here, so that packages which only consume a Store do not link a
// database driver; store/open picks one from a DSN. store/storetest is the
// conformance suite both implementations run.
//
// Conventions shared by every method:
//   - Times are kept to the microsecond and returned in UTC; the store never
//     reads the clock for data it stores, callers pass the times in.
//   - Text fields must be valid UTF-8 without NUL bytes (PostgreSQL cannot
//     store either); violations, like other bad arguments, are reported with
//     ErrInvalid before anything is written.
//   - Raw payloads ([]byte) are stored byte for byte and never parsed.
//   - Text comparisons and orderings are bytewise, whatever the database's
//     collation.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
)

// Sentinel errors, for errors.Is.
var (
	// ErrNotFound is returned when a requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid is returned when an argument is malformed: a missing key,
	// text that is not valid UTF-8, an unknown status, a negative limit.
	ErrInvalid = errors.New("invalid argument")
	// ErrSchemaTooNew is returned by Open and Migrate when the database was
	// migrated by a newer Palisade than this binary: writing to it could
	// corrupt data the newer version relies on.
	ErrSchemaTooNew = errors.New("database schema is newer than this binary")
)

// FindingStore keeps the current findings of each scope.
type FindingStore interface {
	// ReplaceFindings makes fs the complete set of findings of scope (for
	// example "cluster:prod" or "image:sha256:…"), atomically: findings of
	// the scope that are not in fs are removed. seenAt is the time of the run
	// that produced fs; it becomes the LastSeen of every finding in fs and
	// the FirstSeen of those the scope did not hold before, while findings it
	// already held keep their FirstSeen. A finding that was removed and comes
	// back later is new again.
	//
	// Findings with an empty ID get finding.ComputeID and an empty status
	// becomes finding.StatusOpen. Findings with equal IDs are one finding:
	// the first in fs is kept.
	ReplaceFindings(ctx context.Context, scope string, seenAt time.Time, fs []finding.Finding) (ReplaceResult, error)
	// ListFindings returns the stored findings that match f, most severe
	// first, then by rule ID, scope and finding ID.
	ListFindings(ctx context.Context, f FindingFilter) ([]FindingRecord, error)
}

// ScanStore keeps the results of image scans, by image digest.
type ScanStore interface {
	// PutScan stores rec. A scan of the same digest with the same ScannedAt
	// is the same scan and is replaced, so a retried upload is harmless.
	PutScan(ctx context.Context, rec ScanRecord) error
	// LatestScan returns the most recent scan (by ScannedAt) of the image
	// with the given digest, report included, or ErrNotFound.
	LatestScan(ctx context.Context, imageDigest string) (ScanRecord, error)
	// ListScans returns scans matching f, most recent first.
	ListScans(ctx context.Context, f ScanFilter) ([]ScanRecord, error)
}

// AuditStore keeps Kubernetes audit events.
type AuditStore interface {
	// AppendAuditEvents stores events durably and returns how many of them
	// were new. It is idempotent: an event whose (Cluster, AuditID, Stage)
	// is already stored, or repeated in events, is skipped, so a sender may
	// retry a batch after an unclear failure. The batch is stored as a whole
	// or not at all.
	AppendAuditEvents(ctx context.Context, events []AuditEvent) (int, error)
	// AppendAuditBatch stores events as AppendAuditEvents does and puts
	// alerts as PutAlert does, all in one transaction: the audit pipeline
	// stores a bus batch's events and the alerts they raised together,
	// with one commit (one fsync) instead of one per event and alert. It
	// returns how many events were new. Every event and alert is validated
	// before anything is written.
	AppendAuditBatch(ctx context.Context, events []AuditEvent, alerts []Alert) (int, error)
	// QueryAuditEvents returns the events matching q, ordered by event time
	// (oldest first unless q.Descending), then cluster, audit ID and stage.
	QueryAuditEvents(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
	// DeleteAuditEventsBefore deletes events whose EventTime is before
	// before, for retention, and returns how many it deleted.
	DeleteAuditEventsBefore(ctx context.Context, before time.Time) (int64, error)
}

// AlertStore keeps alerts raised by detection rules.
type AlertStore interface {
	// PutAlert creates a or, when an alert with a.ID exists, updates its
	// content (rule, severity, cluster, title, evidence, raw, UpdatedAt)
	// while keeping its CreatedAt and Status: a detection that fires again
	// must not reopen an alert someone acknowledged. Status changes go
	// through UpdateAlertStatus. A new alert with an empty Status is open;
	// an empty UpdatedAt becomes CreatedAt.
	PutAlert(ctx context.Context, a Alert) error
	// GetAlert returns the alert with the given ID, or ErrNotFound.
	GetAlert(ctx context.Context, id string) (Alert, error)
	// ListAlerts returns the alerts matching f, newest (by CreatedAt) first,
	// then by ID.
	ListAlerts(ctx context.Context, f AlertFilter) ([]Alert, error)
	// UpdateAlertStatus sets the status of alert id and its UpdatedAt to at,
	// or returns ErrNotFound.
	UpdateAlertStatus(ctx context.Context, id string, status AlertStatus, at time.Time) error
}

// Store is the whole persistence layer.
type Store interface {
	FindingStore
	ScanStore
	AuditStore
	AlertStore

	// Migrate brings the schema up to date; Open already did, so calling it
	// again is a cheap no-op. It returns ErrSchemaTooNew when the database
	// is ahead of this binary.
	Migrate(ctx context.Context) error
	// SchemaVersion returns the version of the newest applied migration.
	SchemaVersion(ctx context.Context) (int, error)
	// Ping reports whether the database is reachable.
	Ping(ctx context.Context) error
	// Close releases the database. Calling it again does nothing.
	Close() error
}
