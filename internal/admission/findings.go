package admission

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/policyreport"
	"github.com/palisade-sec/palisade/internal/store"
)

// DefaultMaxFindings bounds the admission findings a FindingRecorder keeps:
// like a PolicyReport, it is the newest results, not a history (the
// decision log is the history).
const DefaultMaxFindings = 5000

// FindingRecorder keeps the newest warn- and audit-mode results as findings
// in Palisade's store, under one scope per webhook replica, so that the API
// and dashboards read what admission saw like any other finding — also
// where no cluster client writes PolicyReports. It is a ResultRecorder;
// Run writes the current set every Interval and when its context ends.
type FindingRecorder struct {
	Store    store.FindingStore
	Scope    string        // "admission:<replica>"
	Max      int           // 0 is DefaultMaxFindings
	Interval time.Duration // 0 is 10 s
	Logger   *slog.Logger

	mu      sync.Mutex
	current map[string]storedResult // by finding ID
	dirty   bool
}

type storedResult struct {
	f  finding.Finding
	at time.Time
}

// Record implements ResultRecorder. A newer result for the same policy,
// object and container replaces the older one; past Max the oldest goes.
func (r *FindingRecorder) Record(res policyreport.Result) {
	f := finding.Finding{
		RuleID: res.Policy, Title: res.Policy, Severity: res.Severity, Category: "admission", Message: res.Message,
		Resource: finding.Resource{Namespace: res.Resource.Namespace, APIVersion: res.Resource.APIVersion, Kind: res.Resource.Kind,
			Name: res.Resource.Name, Container: res.Properties["container"], Image: res.Properties["image"]},
	}
	for _, k := range []string{"mode", "operation"} {
		if v := res.Properties[k]; v != "" {
			f.Evidence = append(f.Evidence, finding.Evidence{Name: k, Value: v})
		}
	}
	f.ID = finding.ComputeID(&f)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current == nil {
		r.current = map[string]storedResult{}
	}
	r.current[f.ID] = storedResult{f, res.Time}
	r.dirty = true
	limit := r.Max
	if limit <= 0 {
		limit = DefaultMaxFindings
	}
	for len(r.current) > limit {
		var oldest string
		for id, c := range r.current {
			if oldest == "" || c.at.Before(r.current[oldest].at) {
				oldest = id
			}
		}
		delete(r.current, oldest)
	}
}

// Flush writes the current set if it changed since the last write.
func (r *FindingRecorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	if !r.dirty {
		r.mu.Unlock()
		return nil
	}
	fs := make([]finding.Finding, 0, len(r.current))
	for _, c := range r.current {
		fs = append(fs, c.f)
	}
	r.dirty = false
	r.mu.Unlock()
	if _, err := r.Store.ReplaceFindings(ctx, r.Scope, time.Now(), fs); err != nil {
		r.mu.Lock()
		r.dirty = true // written again at the next flush
		r.mu.Unlock()
		return err
	}
	return nil
}

// Run flushes every Interval until ctx ends, then once more.
func (r *FindingRecorder) Run(ctx context.Context) {
	interval := r.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			r.logFlush(final)
			cancel()
			return
		case <-t.C:
			r.logFlush(ctx)
		}
	}
}

func (r *FindingRecorder) logFlush(ctx context.Context) {
	if err := r.Flush(ctx); err != nil && r.Logger != nil {
		r.Logger.Warn("admission findings not stored; retried at the next flush", "scope", r.Scope, "error", err)
	}
}

// Recorders passes each result to every recorder in it.
type Recorders []ResultRecorder

// Record implements ResultRecorder.
func (rs Recorders) Record(res policyreport.Result) {
	for _, r := range rs {
		r.Record(res)
	}
}
