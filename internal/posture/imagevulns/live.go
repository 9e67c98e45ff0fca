package imagevulns

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/store"
)

// Live is the index `palisade serve` judges workloads with: the newest scan
// of each image in its store (uploaded by CI, `palisade image scan
// --upload`). Refresh reads only the reports of scans it has not read yet
// (reports can be megabytes), so calling it before every posture scan
// costs one listing when nothing changed. Lookup is safe for concurrent
// use with Refresh.
type Live struct {
	Store store.ScanStore

	mu    sync.Mutex // serializes Refresh
	known map[string]dated
	cur   atomic.Pointer[Index]
}

var _ posture.ImageVulns = (*Live)(nil)

// Refresh loads the scans stored since the last call. A report that cannot
// be read is skipped and named in the returned error, the others are
// indexed: one bad upload must not blind posture to every image.
func (l *Live) Refresh(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.known == nil {
		l.known = map[string]dated{}
	}
	recs, err := l.Store.ListScans(ctx, store.ScanFilter{})
	if err != nil {
		return fmt.Errorf("list image scans: %w", err)
	}
	changed := l.cur.Load() == nil
	var bad []error
	for _, r := range recs { // most recent first: the first of a digest is its newest
		if d, ok := l.known[r.ImageDigest]; ok && !d.at.Before(r.ScannedAt) {
			continue
		}
		full, err := l.Store.LatestScan(ctx, r.ImageDigest)
		if err != nil {
			bad = append(bad, fmt.Errorf("read scan of %s: %w", r.ImageDigest, err))
			continue
		}
		d, err := fromRecord(&full)
		if err != nil {
			bad = append(bad, err)
			l.known[r.ImageDigest] = dated{nil, full.ScannedAt, ""} // not read again until rescanned
			continue
		}
		l.known[r.ImageDigest] = d
		changed = true
	}
	if changed {
		scans := make([]dated, 0, len(l.known))
		for _, d := range l.known {
			if d.scan != nil {
				scans = append(scans, d)
			}
		}
		x, err := index(scans)
		if err != nil {
			return err
		}
		l.cur.Store(x)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d image scan(s) not indexed, first: %w", len(bad), bad[0])
	}
	return nil
}

// Lookup implements posture.ImageVulns on the last refreshed index.
func (l *Live) Lookup(image, imageID string) (posture.ImageMatch, bool) {
	return l.cur.Load().Lookup(image, imageID)
}

// refreshEvery is how often Run refreshes.
const refreshEvery = time.Minute

// Run refreshes every minute until ctx ends; errors go to onErr.
func (l *Live) Run(ctx context.Context, onErr func(error)) {
	t := time.NewTicker(refreshEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := l.Refresh(ctx); err != nil && onErr != nil {
				onErr(err)
			}
		}
	}
}
