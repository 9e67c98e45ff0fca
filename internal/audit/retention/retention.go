// Package retention deletes audit events from the store once they are older
// than the configured retention (audit.retention.events), so that the
// searchable history is bounded. Alerts are not deleted: they are few, and
// their evidence IDs still name the events in any exported log.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Store is the part of store.AuditStore retention uses.
type Store interface {
	DeleteAuditEventsBefore(ctx context.Context, before time.Time) (int64, error)
}

// Options configures a Retainer.
type Options struct {
	Store Store
	// Keep is how long events are kept; 0 or less disables deletion.
	Keep time.Duration
	// Now is the clock (default time.Now); tests inject one.
	Now    func() time.Time
	Logger *slog.Logger
}

// Retainer applies the retention.
type Retainer struct{ opts Options }

// New builds a Retainer.
func New(opts Options) *Retainer {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Retainer{opts: opts}
}

// Once deletes the events older than Keep and returns how many.
func (r *Retainer) Once(ctx context.Context) (int64, error) {
	if r.opts.Keep <= 0 {
		return 0, nil
	}
	cutoff := r.opts.Now().Add(-r.opts.Keep)
	n, err := r.opts.Store.DeleteAuditEventsBefore(ctx, cutoff)
	if err != nil {
		return n, fmt.Errorf("delete audit events before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return n, nil
}

// Run applies the retention at start and on every tick until ctx is done.
// A failed pass is logged and retried on the next tick: events kept a
// little longer are not lost data.
func (r *Retainer) Run(ctx context.Context, tick <-chan time.Time) {
	for {
		n, err := r.Once(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			r.opts.Logger.Warn("audit retention pass failed; retrying later", "error", err)
		case n > 0:
			r.opts.Logger.Info("deleted audit events past retention", "events", n, "keep", r.opts.Keep.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}
