package store

import (
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
)

// FindingRecord is a finding as stored: the finding, the scope it belongs to
// and when runs of that scope first and last reported it.
type FindingRecord struct {
	Scope     string
	FirstSeen time.Time
	LastSeen  time.Time
	Finding   finding.Finding
}

// ReplaceResult says how ReplaceFindings changed a scope.
type ReplaceResult struct {
	New     int // findings the scope did not hold before
	Kept    int // findings the scope held before and still holds
	Removed int // findings the scope held before and no longer holds
}

// FindingFilter selects findings. Zero fields match everything.
type FindingFilter struct {
	Scope       string
	MinSeverity finding.Severity // findings at least this severe
	Status      finding.Status
	RuleID      string
	Namespace   string // Finding.Resource.Namespace
	Limit       int    // at most this many; 0 means no limit
	Offset      int    // skip this many first
}

// SeverityCounts counts findings by severity.
type SeverityCounts struct {
	Critical int
	High     int
	Medium   int
	Low      int
	Info     int
	Unknown  int
}

// ScanRecord is the result of one scan of one image.
type ScanRecord struct {
	ImageDigest  string // "sha256:…"; the key
	ImageRef     string // the reference that was scanned, e.g. "registry/app:1.2"
	ScannedAt    time.Time
	PolicyDigest string // digest of the policy the image was judged by
	// AdvisoryDBTime is when the advisory database used was last updated, so
	// that a later run with newer data can tell the result is stale.
	AdvisoryDBTime time.Time
	Passed         bool
	Summary        SeverityCounts
	Report         []byte // the full report, JSON
}

// ScanFilter selects scans.
type ScanFilter struct {
	ImageDigest string // only scans of this image; "" for all images
	// IncludeReport asks for ScanRecord.Report too; listings leave it nil
	// by default because reports can be megabytes each.
	IncludeReport bool
	Limit         int // 0 means no limit
}

// AuditEvent is one Kubernetes audit event, with the fields queries use
// pulled out of the raw JSON.
type AuditEvent struct {
	AuditID    string
	Stage      string // "ResponseComplete", …
	Cluster    string
	ReceivedAt time.Time // when Palisade received it
	EventTime  time.Time // when the API server recorded it (stageTimestamp)
	Verb       string
	User       string
	Namespace  string
	Resource   string
	Name       string
	Raw        []byte
}

// AuditQuery selects audit events. Zero fields match everything.
type AuditQuery struct {
	Since     time.Time // EventTime >= Since
	Until     time.Time // EventTime < Until
	Cluster   string
	User      string
	Verb      string
	Namespace string
	AuditIDs  []string // any of these audit IDs, e.g. an alert's evidence; empty: any
	Limit     int      // 0 means no limit
	// Descending returns the newest events first, so that Limit keeps the
	// most recent ones.
	Descending bool
}

// AlertStatus is where an alert is in its handling.
type AlertStatus string

// The statuses an alert can have.
const (
	AlertOpen         AlertStatus = "open"
	AlertAcknowledged AlertStatus = "acknowledged"
	AlertResolved     AlertStatus = "resolved"
)

// Valid reports whether s is one of the defined statuses.
func (s AlertStatus) Valid() bool {
	switch s {
	case AlertOpen, AlertAcknowledged, AlertResolved:
		return true
	}
	return false
}

// Alert is a detection raised from audit events.
type Alert struct {
	ID        string
	RuleID    string
	Severity  finding.Severity
	Cluster   string
	Title     string
	CreatedAt time.Time
	UpdatedAt time.Time
	// EvidenceAuditIDs are the audit IDs of the events that raised it.
	EvidenceAuditIDs []string
	Status           AlertStatus
	Raw              []byte
}

// AlertFilter selects alerts. Zero fields match everything.
type AlertFilter struct {
	Cluster     string
	RuleID      string
	Status      AlertStatus
	MinSeverity finding.Severity
	Since       time.Time // CreatedAt >= Since
	Until       time.Time // CreatedAt < Until
	Limit       int       // 0 means no limit
	Offset      int
}
