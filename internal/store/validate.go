package store

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/palisade-sec/palisade/internal/finding"
)

// The helpers in this file are exported for the implementations, so that
// both check arguments the same way and report the same errors.

// Truncate returns t as a store keeps it: in UTC, to the microsecond.
func Truncate(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// checkText reports ErrInvalid when s cannot be stored as text.
func checkText(field, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8: %w", field, ErrInvalid)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%s contains a NUL byte: %w", field, ErrInvalid)
	}
	return nil
}

// checkKey is checkText for a field that must not be empty.
func checkKey(field, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty: %w", field, ErrInvalid)
	}
	return checkText(field, s)
}

func checkTexts(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if err := checkText(fields[i], fields[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func checkPage(limit, offset int) error {
	if limit < 0 {
		return fmt.Errorf("limit %d is negative: %w", limit, ErrInvalid)
	}
	if offset < 0 {
		return fmt.Errorf("offset %d is negative: %w", offset, ErrInvalid)
	}
	return nil
}

// PrepareFindings checks the arguments of FindingStore.ReplaceFindings and
// returns the findings to store: IDs and statuses filled in, duplicates
// dropped (the first of equal IDs is kept), in the order of fs. fs itself is
// not modified.
func PrepareFindings(scope string, seenAt time.Time, fs []finding.Finding) ([]finding.Finding, error) {
	if err := checkKey("scope", scope); err != nil {
		return nil, err
	}
	if seenAt.IsZero() {
		return nil, fmt.Errorf("scope %q: no time of the run: %w", scope, ErrInvalid)
	}
	out := make([]finding.Finding, 0, len(fs))
	seen := make(map[string]bool, len(fs))
	for i := range fs {
		f := fs[i]
		if f.ID == "" {
			f.ID = finding.ComputeID(&f)
		}
		if f.Status == "" {
			f.Status = finding.StatusOpen
		}
		r := &f.Resource
		if err := checkTexts("ID", f.ID, "rule ID", f.RuleID, "status", string(f.Status),
			"cluster", r.Cluster, "namespace", r.Namespace, "kind", r.Kind, "name", r.Name); err != nil {
			return nil, fmt.Errorf("finding %d: %w", i, err)
		}
		if seen[f.ID] {
			continue
		}
		seen[f.ID] = true
		out = append(out, f)
	}
	return out, nil
}

// Validate reports whether f is a well-formed filter.
func (f *FindingFilter) Validate() error {
	if err := checkTexts("scope", f.Scope, "status", string(f.Status), "rule ID", f.RuleID, "namespace", f.Namespace); err != nil {
		return err
	}
	return checkPage(f.Limit, f.Offset)
}

// Validate reports whether r can be stored.
func (r *ScanRecord) Validate() error {
	if err := checkKey("image digest", r.ImageDigest); err != nil {
		return err
	}
	if r.ScannedAt.IsZero() {
		return fmt.Errorf("scan of %q has no scan time: %w", r.ImageDigest, ErrInvalid)
	}
	return checkTexts("image ref", r.ImageRef, "policy digest", r.PolicyDigest)
}

// Validate reports whether f is a well-formed filter.
func (f *ScanFilter) Validate() error {
	if err := checkText("image digest", f.ImageDigest); err != nil {
		return err
	}
	return checkPage(f.Limit, 0)
}

// Validate reports whether e can be stored.
func (e *AuditEvent) Validate() error {
	if err := checkKey("audit ID", e.AuditID); err != nil {
		return err
	}
	return checkTexts("stage", e.Stage, "cluster", e.Cluster, "verb", e.Verb, "user", e.User,
		"namespace", e.Namespace, "resource", e.Resource, "name", e.Name)
}

// ValidateAuditEvents validates every event of a batch, naming the first bad
// one by its index.
func ValidateAuditEvents(events []AuditEvent) error {
	for i := range events {
		if err := events[i].Validate(); err != nil {
			return fmt.Errorf("audit event %d: %w", i, err)
		}
	}
	return nil
}

// Validate reports whether q is a well-formed query.
func (q *AuditQuery) Validate() error {
	if err := checkTexts("cluster", q.Cluster, "user", q.User, "verb", q.Verb, "namespace", q.Namespace); err != nil {
		return err
	}
	for i, id := range q.AuditIDs {
		if err := checkText(fmt.Sprintf("audit ID %d", i), id); err != nil {
			return err
		}
	}
	return checkPage(q.Limit, 0)
}

// Validate reports whether a can be stored. An empty Status is valid (it
// means open for a new alert).
func (a *Alert) Validate() error {
	if err := checkKey("alert ID", a.ID); err != nil {
		return err
	}
	if a.Status != "" && !a.Status.Valid() {
		return fmt.Errorf("alert %q: unknown status %q: %w", a.ID, a.Status, ErrInvalid)
	}
	if err := checkTexts("rule ID", a.RuleID, "cluster", a.Cluster, "title", a.Title); err != nil {
		return fmt.Errorf("alert %q: %w", a.ID, err)
	}
	for i, id := range a.EvidenceAuditIDs {
		if err := checkText(fmt.Sprintf("evidence audit ID %d", i), id); err != nil {
			return fmt.Errorf("alert %q: %w", a.ID, err)
		}
	}
	return nil
}

// Validate reports whether f is a well-formed filter.
func (f *AlertFilter) Validate() error {
	if f.Status != "" && !f.Status.Valid() {
		return fmt.Errorf("unknown alert status %q: %w", f.Status, ErrInvalid)
	}
	if err := checkTexts("cluster", f.Cluster, "rule ID", f.RuleID); err != nil {
		return err
	}
	return checkPage(f.Limit, f.Offset)
}

// ValidateStatusUpdate checks the arguments of UpdateAlertStatus.
func ValidateStatusUpdate(id string, status AlertStatus) error {
	if err := checkKey("alert ID", id); err != nil {
		return err
	}
	if !status.Valid() {
		return fmt.Errorf("alert %q: unknown status %q: %w", id, status, ErrInvalid)
	}
	return nil
}

// ValidateKey checks a key argument of a lookup (an image digest, an alert
// ID): it must be non-empty text.
func ValidateKey(field, s string) error {
	return checkKey(field, s)
}
