package connect

import (
	"context"
	"time"
)

// Backoff doubles a wait between Min and Max; the zero value waits 1s to 1m.
type Backoff struct {
	Min, Max time.Duration
	cur      time.Duration
}

// Wait sleeps for the next interval, or returns ctx.Err() when ctx ends first.
func (b *Backoff) Wait(ctx context.Context) error {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = time.Second
	}
	if hi < lo {
		hi = max(lo, time.Minute)
	}
	switch {
	case b.cur < lo:
		b.cur = lo
	case b.cur < hi:
		b.cur = min(2*b.cur, hi)
	}
	t := time.NewTimer(b.cur)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Reset starts the next Wait from Min again.
func (b *Backoff) Reset() { b.cur = 0 }

// Sleep waits d, or returns ctx.Err() when ctx ends first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
