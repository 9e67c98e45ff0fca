package bus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// groupSync makes published messages durable on disk with one fsync for
// every publish that is waiting, instead of one per message.
//
// JetStream's own SyncAlways fsyncs after every message: 50 audit events in
// one POST cost 50 fsyncs in a row, a few milliseconds each on a busy disk,
// which capped the embedded bus at a few hundred events a second. Without
// SyncAlways the server still writes each message to its block file before
// the publish acknowledgement (R1 streams flush in place), so a process
// crash loses nothing; only the fsync is missing. PublishBatch therefore
// waits, after its acknowledgements, for a sync that started after them:
// a publish returns only once its messages would survive a power cut, as
// before, and concurrent publishes share the sync.
type groupSync struct {
	dir string // the stream's message block directory

	mu      sync.Mutex
	cond    *sync.Cond
	running bool
	started uint64 // syncs begun
	done    uint64 // the newest finished sync
	err     error  // its outcome
	since   time.Time
	syncs   int // finished, for tests
}

func newGroupSync(dir string) *groupSync {
	g := &groupSync{dir: dir}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// streamBlockDir is where the embedded server keeps stream's messages.
// The layout is nats-server's; sync fails loudly if it ever changes.
func streamBlockDir(storeDir, stream string) string {
	return filepath.Join(storeDir, "jetstream", "$G", "streams", stream, "msgs")
}

// wait returns once a sync that began after the call has finished, with
// its error. ctx bounds the wait, not the sync.
func (g *groupSync) wait(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	target := g.started + 1 // a sync running now may have begun before our writes
	for g.done < target {
		if err := ctx.Err(); err != nil {
			return err
		}
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		g.started++
		gen, since := g.started, g.since
		g.since = time.Now()
		g.mu.Unlock()
		err := syncBlocks(g.dir, since)
		g.mu.Lock()
		g.running = false
		g.done, g.err = gen, err
		g.syncs++
		g.cond.Broadcast()
	}
	return g.err
}

// syncBlocks fsyncs the block files written since the previous sync began
// (with a second of slack for file systems' coarse modification times) and
// the directory, which records new block files.
func syncBlocks(dir string, since time.Time) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("sync bus store: %w", err)
	}
	blocks := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".blk") {
			continue
		}
		blocks++
		info, err := e.Info()
		if errors.Is(err, os.ErrNotExist) {
			continue // removed by retention meanwhile
		}
		if err != nil {
			return fmt.Errorf("sync bus store: %w", err)
		}
		if info.ModTime().Before(since.Add(-time.Second)) {
			continue
		}
		if err := fsyncPath(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if blocks == 0 {
		return fmt.Errorf("sync bus store: no message blocks in %s (has the NATS store layout changed?)", dir)
	}
	return fsyncPath(dir)
}

func fsyncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync bus store: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync bus store %s: %w", path, err)
	}
	return nil
}
