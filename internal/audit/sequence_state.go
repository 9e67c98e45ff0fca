package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// PartialMatch is one sequence waiting for its next step: what the engine
// must remember across a restart so that a sequence begun before it can
// complete after it.
type PartialMatch struct {
	Sequence string    `json:"sequence"`
	Step     int       `json:"step"` // index of the step waited for, ≥ 1
	Key      string    `json:"key"`  // the join key the step must match
	Start    time.Time `json:"start"`
	Seen     time.Time `json:"seen"` // last touched, for LRU order and expiry
	Evidence []string  `json:"evidence"`
}

// CorrelationState returns the live partial matches, least recently
// touched first, and a change counter: equal counters mean equal state.
func (en *Engine) CorrelationState() ([]PartialMatch, uint64) {
	en.mu.Lock()
	defer en.mu.Unlock()
	c := en.corr
	out := make([]PartialMatch, 0, c.state.len())
	for el := c.state.order.Back(); el != nil; el = el.Prev() {
		ent := el.Value.(*lruEntry[partialKey, *partial])
		out = append(out, PartialMatch{Sequence: ent.key.seq, Step: ent.key.step, Key: ent.key.key,
			Start: ent.val.start, Seen: ent.seen, Evidence: slices.Clone(ent.val.evidence)})
	}
	return out, c.changes
}

// CorrelationVersion returns the change counter of CorrelationState without
// copying the state: a caller that only needs to know whether the state
// changed (once per batch) pays O(1), not O(partial matches).
func (en *Engine) CorrelationVersion() uint64 {
	en.mu.Lock()
	defer en.mu.Unlock()
	return en.corr.changes
}

// RestoreCorrelationState loads partial matches saved by CorrelationState.
// Matches of sequences the engine no longer has, of steps they no longer
// have, or whose window has passed by now are dropped; it returns how many
// were kept. The table's bound still holds: the most recent are kept.
func (en *Engine) RestoreCorrelationState(ps []PartialMatch, now time.Time) int {
	en.mu.Lock()
	defer en.mu.Unlock()
	c := en.corr
	byID := make(map[string]*Sequence, len(c.seqs))
	for _, s := range c.seqs {
		byID[s.ID] = s
	}
	kept := 0
	for _, p := range ps {
		s := byID[p.Sequence]
		if s == nil || p.Step < 1 || p.Step >= len(s.Steps) || now.Sub(p.Start) > s.Window {
			continue
		}
		c.hold(partialKey{p.Sequence, p.Step, p.Key}, &partial{start: p.Start, evidence: slices.Clone(p.Evidence)}, p.Seen)
		kept++
	}
	return min(kept, c.state.len())
}

// StateFile keeps correlation state in one file, replaced atomically on
// every save (temporary file, fsync, rename, fsync of the directory).
type StateFile struct{ Path string }

// stateFileVersion changes when the file's meaning does; other versions
// are ignored with a warning rather than misread.
const stateFileVersion = 1

// stateDoc is the file. Covers was added without a version change: a file
// without it covers no known position, which is what 0 means.
type stateDoc struct {
	Version  int            `json:"version"`
	Covers   uint64         `json:"covers,omitempty"`
	Partials []PartialMatch `json:"partials"`
}

// Snapshot is correlation state together with the position in the event
// stream it reflects.
type Snapshot struct {
	Partials []PartialMatch
	// Covers is the highest bus sequence number whose event the state
	// reflects (0: unknown). After a restart, an event at or below it that
	// comes again must not be correlated a second time.
	Covers uint64
}

// Load reads the saved partial matches; a missing file is an empty state.
func (f StateFile) Load() ([]PartialMatch, error) {
	s, err := f.LoadSnapshot()
	return s.Partials, err
}

// LoadSnapshot reads the saved snapshot; a missing file is an empty one.
func (f StateFile) LoadSnapshot() (Snapshot, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return Snapshot{}, nil
	}
	if err != nil {
		return Snapshot{}, fmt.Errorf("read correlation state: %w", err)
	}
	return parseState(f.Path, data)
}

func parseState(name string, data []byte) (Snapshot, error) {
	var doc stateDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return Snapshot{}, fmt.Errorf("decode correlation state %s: %w", name, err)
	}
	if doc.Version != stateFileVersion {
		return Snapshot{}, fmt.Errorf("correlation state %s: version %d, want %d", name, doc.Version, stateFileVersion)
	}
	for i, p := range doc.Partials {
		if p.Sequence == "" || p.Step < 1 {
			return Snapshot{}, fmt.Errorf("correlation state %s: partials[%d]: a sequence and a step ≥ 1 are required", name, i)
		}
	}
	return Snapshot{Partials: doc.Partials, Covers: doc.Covers}, nil
}

// Save replaces the file with ps.
func (f StateFile) Save(ps []PartialMatch) error {
	return f.SaveSnapshot(Snapshot{Partials: ps})
}

// SaveSnapshot replaces the file with s: written to a temporary file,
// synced, renamed over the old one, and the directory synced, so a crash
// leaves the old snapshot or the new one, never a mix.
func (f StateFile) SaveSnapshot(s Snapshot) error {
	data, err := json.Marshal(stateDoc{Version: stateFileVersion, Covers: s.Covers, Partials: s.Partials})
	if err != nil {
		return fmt.Errorf("encode correlation state: %w", err)
	}
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create correlation state directory: %w", err)
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	tmp := f.Path + ".tmp-" + hex.EncodeToString(suffix[:])
	if err := writeSynced(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, f.Path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("commit correlation state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open correlation state directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync correlation state directory: %w", err)
	}
	return nil
}

func writeSynced(path string, data []byte) error {
	w, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write correlation state: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		os.Remove(path)
		return fmt.Errorf("write correlation state %s: %w", path, err)
	}
	if err := w.Sync(); err != nil {
		w.Close()
		os.Remove(path)
		return fmt.Errorf("sync correlation state %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("close correlation state %s: %w", path, err)
	}
	return nil
}

// LoadState restores en's correlation state from f; call it before the
// first event. A damaged or missing file costs only the correlations in
// flight, so it is logged and the engine starts empty.
func (en *Engine) LoadState(f StateFile, logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ps, err := f.Load()
	if err != nil {
		logger.Warn("correlation state unreadable; starting without it", "file", f.Path, "error", err)
		return
	}
	kept := en.RestoreCorrelationState(ps, en.opts.Now())
	logger.Info("correlation state restored", "file", f.Path, "partial_matches", kept, "dropped", len(ps)-kept)
}

// RestoreSnapshot restores en's correlation state from f, like LoadState,
// and returns the stream position the restored state covers (0 when the
// file is missing or unreadable: nothing restored covers anything).
func (en *Engine) RestoreSnapshot(f StateFile, logger *slog.Logger) (covers uint64) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s, err := f.LoadSnapshot()
	if err != nil {
		logger.Warn("correlation state unreadable; starting without it", "file", f.Path, "error", err)
		return 0
	}
	kept := en.RestoreCorrelationState(s.Partials, en.opts.Now())
	logger.Info("correlation state restored", "file", f.Path, "partial_matches", kept, "dropped", len(s.Partials)-kept, "covers", s.Covers)
	return s.Covers
}

// SaveState saves en's correlation state to f whenever it changed, at most
// once per interval, until ctx is done, and a last time then. Writes are
// batched by the interval, so a crash (not a shutdown) loses at most the
// partial matches of the last interval: a sequence begun then and finished
// after the restart is not reported. Events themselves are never lost;
// they are on the bus and in the store. The server's audit pipeline does
// not use it: it saves snapshots itself and acknowledges bus messages only
// once a snapshot covers them (ingest.Pipeline.State), which loses nothing.
func (en *Engine) SaveState(ctx context.Context, f StateFile, interval time.Duration, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if interval <= 0 {
		interval = time.Second
	}
	// What LoadState restored is on disk already.
	_, saved := en.CorrelationState()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			ps, v := en.CorrelationState()
			if v == saved {
				return nil
			}
			return f.Save(ps)
		case <-tick.C:
		}
		ps, v := en.CorrelationState()
		if v == saved {
			continue
		}
		if err := f.Save(ps); err != nil {
			logger.Error("save correlation state", "file", f.Path, "error", err)
			continue
		}
		saved = v
	}
}
