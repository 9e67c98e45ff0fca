package bus

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestPublishWaitsForSync: the embedded bus's publishes return only after
// an fsync of the stream's blocks, found where nats-server keeps them.
func TestPublishWaitsForSync(t *testing.T) {
	dir := t.TempDir()
	b := openEmbedded(t, dir)
	defer b.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := b.PublishBatch(t.Context(), batch(i*10, i*10+10)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	b.sync.mu.Lock()
	syncs := b.sync.syncs
	b.sync.mu.Unlock()
	if syncs < 1 || syncs > 8 {
		t.Errorf("%d syncs for 8 publishes, want 1..8", syncs)
	}
	blocks, _ := filepath.Glob(filepath.Join(streamBlockDir(dir, StreamName), "*.blk"))
	if len(blocks) == 0 {
		t.Errorf("no block files in %s: the sync looks in the wrong place", streamBlockDir(dir, StreamName))
	}
}

func TestGroupSyncFailsLoudly(t *testing.T) {
	empty := t.TempDir()
	for name, tc := range map[string]struct{ dir, want string }{
		"missing": {filepath.Join(empty, "nope"), "no such file"},
		"empty":   {empty, "no message blocks"},
	} {
		t.Run(name, func(t *testing.T) {
			err := newGroupSync(tc.dir).wait(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("sync of %s: error %v, want one containing %q", tc.dir, err, tc.want)
			}
		})
	}
	if err := os.WriteFile(filepath.Join(empty, "1.blk"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := newGroupSync(empty).wait(context.Background()); err != nil {
		t.Errorf("sync with a block file: %v", err)
	}
}
