// Package tail follows Kubernetes audit log files (the API server's
// --audit-log-path, JSON lines) and puts every event on the bus, like the
// webhook receiver does for pushed batches. It survives rotation by rename
// and by copytruncate, waits for a partial last line to be finished, and
// resumes after a restart from a checkpoint that is committed only once the
// bus acknowledged everything before it: nothing is lost, and nothing the
// bus already holds is published again (a crash between the bus's
// acknowledgement and the checkpoint republishes at most one batch, which
// JetStream drops by message ID).
package tail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/palisade-sec/palisade/internal/audit/receiver"
	"github.com/palisade-sec/palisade/internal/bus"
)

// Options configures a Tailer.
type Options struct {
	// Path is the audit log file; it need not exist yet.
	Path string
	// Cluster names the cluster whose API server writes Path.
	Cluster string
	// Checkpoint is the file recording the resume position. Required.
	Checkpoint string
	Publisher  receiver.Publisher
	// BatchSize is how many events are published per acknowledged batch
	// (and checkpoint write). Default 500.
	BatchSize int
	// Poll is how often an idle tailer looks for new lines and rotation.
	// Default 200ms.
	Poll time.Duration
	// MaxLine bounds one line; longer ones are skipped as malformed
	// without being held in memory. Default 16 MiB.
	MaxLine int
	// MaxMessage bounds one bus message (an event and its envelope); an
	// event that does not fit is skipped as malformed rather than retried
	// forever. Default 1 MiB, NATS's default max_payload.
	MaxMessage int
	Logger     *slog.Logger
	Now        func() time.Time
}

// Stats counts what a Tailer did.
type Stats struct {
	Lines     int // lines consumed, malformed and blank included
	Events    int // events published and acknowledged
	Malformed int // lines skipped because they are not audit events
	Rotations int // rotations and truncations followed
	// LastMalformed is "file:line: why" for the latest malformed line.
	LastMalformed string
}

// Tailer follows one audit log file.
type Tailer struct {
	opts   Options
	logger *slog.Logger

	mu    sync.Mutex
	stats Stats
}

// New checks opts and returns a Tailer; Run starts it.
func New(opts Options) (*Tailer, error) {
	if opts.Path == "" || opts.Cluster == "" || opts.Checkpoint == "" || opts.Publisher == nil {
		return nil, errors.New("audit log tailer: a path, a cluster, a checkpoint file and a publisher are required")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.Poll <= 0 {
		opts.Poll = 200 * time.Millisecond
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = 16 << 20
	}
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = 1 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Tailer{opts: opts, logger: opts.Logger.With("component", "audit_tail", "file", opts.Path, "cluster", opts.Cluster)}, nil
}

// Stats returns a copy of the counters.
func (t *Tailer) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// source is one open file being read.
type source struct {
	f    *os.File
	name string // for file:line reports: the rotated file's own name when draining one
	id   fileID
	head string
	read int64 // offset read up to
	done int64 // offset just past the last complete line consumed
	line int   // lines consumed
	sp   splitter
}

func (s *source) close() {
	if s != nil && s.f != nil {
		s.f.Close()
	}
}

// Run tails until ctx is done; it returns nil then, or the error that made
// going on impossible (an unwritable checkpoint). A bus outage is waited
// out: nothing is read past what is not yet acknowledged.
func (t *Tailer) Run(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Dir(t.opts.Checkpoint), 0o700); err != nil {
		return fmt.Errorf("create tail checkpoint directory: %w", err)
	}
	cp, err := loadCheckpoint(t.opts.Checkpoint)
	if err != nil {
		return err
	}
	b := &batch{}
	cur, err := t.resume(ctx, cp, b)
	if err != nil {
		return ignoreDone(ctx, err)
	}
	defer func() { cur.close() }()
	timer := time.NewTimer(t.opts.Poll)
	defer timer.Stop()
	for {
		n, err := t.pump(ctx, cur, b)
		if err != nil {
			return ignoreDone(ctx, err)
		}
		if n > 0 {
			continue
		}
		// Idle at the end of the file: everything read is published, so a
		// rotation found later loses nothing that was written before it.
		if err := t.flush(ctx, cur, b); err != nil {
			return ignoreDone(ctx, err)
		}
		timer.Reset(t.opts.Poll)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		// Look for rotation right before reading again: a file truncated
		// and rewritten meanwhile must not be read from the old offset.
		// (copytruncate keeps a window of its own, between its copy and
		// its truncate, where lines can be lost; rename does not.)
		next, err := t.followRotation(ctx, cur, b)
		if err != nil {
			return ignoreDone(ctx, err)
		}
		if next != cur {
			cur.close()
			cur = next
		}
	}
}

func ignoreDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// resume opens the file to read, seeking to the checkpoint when it still
// names this file, or first finishing the rotated file it names.
func (t *Tailer) resume(ctx context.Context, cp *Checkpoint, b *batch) (*source, error) {
	cur, err := t.open(ctx)
	if err != nil {
		return nil, err
	}
	if cp == nil {
		return cur, nil
	}
	if cp.Dev == cur.id.dev && cp.Inode == cur.id.ino {
		fi, err := cur.f.Stat()
		if err != nil {
			cur.close()
			return nil, fmt.Errorf("stat %s: %w", cur.name, err)
		}
		if (cp.Offset == 0 || cp.Head == cur.head) && fi.Size() >= cp.Offset {
			cur.read, cur.done, cur.line = cp.Offset, cp.Offset, cp.Line
			t.logger.Info("resuming audit log at checkpoint", "offset", cp.Offset, "line", cp.Line)
			return cur, nil
		}
		t.logger.Warn("audit log was truncated or replaced since the checkpoint; reading it from the start", "checkpoint_offset", cp.Offset)
		return cur, nil
	}
	// The file was rotated while we were down: finish the old one first.
	old, err := t.findRotated(cp)
	if err != nil {
		cur.close()
		return nil, err
	}
	if old == nil {
		t.logger.Warn("audit log was rotated since the checkpoint and the old file is gone; its unread lines are lost", "checkpoint_offset", cp.Offset)
		return cur, nil
	}
	old.read, old.done, old.line = cp.Offset, cp.Offset, cp.Line
	t.logger.Info("finishing rotated audit log before the current one", "rotated", old.name, "offset", cp.Offset)
	if err := t.finish(ctx, old, b); err != nil {
		old.close()
		cur.close()
		return nil, err
	}
	old.close()
	if err := t.commit(cur); err != nil {
		cur.close()
		return nil, err
	}
	return cur, nil
}

// open waits for the file to exist and opens it at offset 0.
func (t *Tailer) open(ctx context.Context) (*source, error) {
	for {
		f, err := os.Open(t.opts.Path)
		if err == nil {
			return t.sourceOf(f, t.opts.Path)
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open audit log: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(t.opts.Poll):
		}
	}
}

func (t *Tailer) sourceOf(f *os.File, name string) (*source, error) {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", name, err)
	}
	head, err := headOf(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &source{f: f, name: name, id: idOf(fi), head: head, sp: splitter{max: t.opts.MaxLine}}, nil
}

// findRotated looks in the log's directory for the file the checkpoint
// names (same device, inode and head), wherever the rotation renamed it.
func (t *Tailer) findRotated(cp *Checkpoint) (*source, error) {
	dir := filepath.Dir(t.opts.Path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("look for rotated audit logs in %s: %w", dir, err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if id := idOf(fi); id.dev != cp.Dev || id.ino != cp.Inode {
			continue
		}
		name := filepath.Join(dir, e.Name())
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("open rotated audit log: %w", err)
		}
		s, err := t.sourceOf(f, name)
		if err != nil {
			return nil, err
		}
		if s.head != cp.Head || fi.Size() < cp.Offset {
			s.close()
			return nil, nil
		}
		return s, nil
	}
	return nil, nil
}

// followRotation checks, at the end of cur, whether Path now names another
// file (rotation by rename) or cur shrank or was rewritten (copytruncate).
// It returns the source to read next: cur itself when nothing changed.
func (t *Tailer) followRotation(ctx context.Context, cur *source, b *batch) (*source, error) {
	fi, err := os.Stat(t.opts.Path)
	if errors.Is(err, os.ErrNotExist) {
		return cur, nil // renamed, the new file not created yet
	}
	if err != nil {
		return nil, fmt.Errorf("stat audit log: %w", err)
	}
	if id := idOf(fi); id != cur.id {
		// Lines written to the old file between our last read and the
		// rename are read now, before switching.
		if err := t.finish(ctx, cur, b); err != nil {
			return nil, err
		}
		next, err := t.open(ctx)
		if err != nil {
			return nil, err
		}
		t.count(func(s *Stats) { s.Rotations++ })
		t.logger.Info("audit log rotated; following the new file", "lines_read_from_old", cur.line)
		if err := t.commit(next); err != nil {
			next.close()
			return nil, err
		}
		return next, nil
	}
	truncated := fi.Size() < cur.read
	if !truncated && cur.head != "" {
		// Truncated and written past our offset again since the last look:
		// the size alone cannot tell, the first line can.
		h, err := headOf(cur.f)
		if err != nil {
			return nil, err
		}
		truncated = h != "" && h != cur.head
	}
	if !truncated {
		return cur, nil
	}
	return cur, t.restart(ctx, cur, b)
}

// restart goes back to the start of a file truncated in place, after
// publishing what was read from it before the truncation.
func (t *Tailer) restart(ctx context.Context, s *source, b *batch) error {
	if err := t.flush(ctx, s, b); err != nil {
		return err
	}
	t.count(func(st *Stats) { st.Rotations++ })
	t.logger.Info("audit log truncated in place (copytruncate); reading it from the start", "previous_offset", s.read)
	s.read, s.done, s.line = 0, 0, 0
	s.sp.reset()
	var err error
	if s.head, err = headOf(s.f); err != nil {
		return err
	}
	return t.commit(s)
}

// finish reads a file that will not grow any more to its end, including a
// last line without a newline, publishes and commits.
func (t *Tailer) finish(ctx context.Context, s *source, b *batch) error {
	for {
		n, err := t.pump(ctx, s, b)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	if line, tooLong := s.sp.partial(); len(line) > 0 || tooLong {
		t.record(s, line, tooLong, b)
		s.done = s.read
		s.sp.reset()
	}
	return t.flush(ctx, s, b)
}

// readChunk is how much one read takes; a batch is flushed between reads.
const readChunk = 256 << 10

// pump reads what is available from s, turning complete lines into
// messages and publishing whenever a batch fills. It returns the bytes read.
func (t *Tailer) pump(ctx context.Context, s *source, b *batch) (int, error) {
	if b.buf == nil {
		b.buf = make([]byte, readChunk)
	}
	n, err := s.f.ReadAt(b.buf, s.read)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("read %s at %d: %w", s.name, s.read, err)
	}
	if n > 0 && s.head != "" {
		// Bytes read at an offset of a file that was truncated and
		// rewritten past it are not lines of ours: the first line, read
		// after the chunk, tells. Checking before the read would leave a
		// window; after it, none (audit events' first lines are unique).
		h, err := headOf(s.f)
		if err != nil {
			return 0, err
		}
		if h != s.head {
			return n, t.restart(ctx, s, b)
		}
	}
	start := s.read
	s.sp.feed(b.buf[:n], func(line []byte, tooLong bool, end int) {
		t.record(s, line, tooLong, b)
		s.done = start + int64(end)
	})
	s.read += int64(n)
	if len(b.msgs) >= t.opts.BatchSize {
		if err := t.flush(ctx, s, b); err != nil {
			return n, err
		}
	}
	return n, ctx.Err()
}

// batch holds messages read but not yet acknowledged.
type batch struct {
	msgs  []bus.Message
	dirty bool // lines consumed (perhaps all malformed) since the last commit
	buf   []byte
}

// eventKey is what a line must carry to be an audit event.
type eventKey struct {
	Kind    string `json:"kind"`
	AuditID string `json:"auditID"`
	Stage   string `json:"stage"`
}

// record turns one line into a message, or counts it as malformed.
func (t *Tailer) record(s *source, line []byte, tooLong bool, b *batch) {
	s.line++
	b.dirty = true
	t.count(func(st *Stats) { st.Lines++ })
	if tooLong {
		t.malformed(s, fmt.Errorf("line longer than %d bytes", t.opts.MaxLine))
		return
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) == 0 {
		return
	}
	var key eventKey
	if err := json.Unmarshal(line, &key); err != nil {
		t.malformed(s, fmt.Errorf("not a JSON audit event: %w", err))
		return
	}
	if key.Kind != "" && key.Kind != "Event" {
		t.malformed(s, fmt.Errorf("kind %q: want one audit Event per line", key.Kind))
		return
	}
	if key.AuditID == "" || key.Stage == "" {
		t.malformed(s, errors.New("auditID and stage are required"))
		return
	}
	data, err := json.Marshal(receiver.Record{Cluster: t.opts.Cluster, Source: "file", ReceivedAt: t.opts.Now().UTC(), Event: line})
	if err != nil {
		t.malformed(s, fmt.Errorf("encode record: %w", err))
		return
	}
	if len(data) > t.opts.MaxMessage {
		t.malformed(s, fmt.Errorf("event of %d bytes is over the bus's %d-byte message limit", len(data), t.opts.MaxMessage))
		return
	}
	b.msgs = append(b.msgs, bus.Message{
		Subject: receiver.SubjectPrefix + receiver.SubjectToken(t.opts.Cluster),
		// The receiver's ID: an event that reached us both by webhook and
		// by file is stored once.
		ID:   t.opts.Cluster + "/" + key.AuditID + "/" + key.Stage,
		Data: data,
	})
}

func (t *Tailer) malformed(s *source, err error) {
	where := fmt.Sprintf("%s:%d", s.name, s.line)
	t.count(func(st *Stats) { st.Malformed++; st.LastMalformed = where + ": " + err.Error() })
	t.logger.Warn("skipped malformed audit log line", "where", where, "error", err)
}

func (t *Tailer) count(f func(*Stats)) {
	t.mu.Lock()
	f(&t.stats)
	t.mu.Unlock()
}

// flush publishes the batch, retrying until the bus acknowledges it (or ctx
// ends), then commits the checkpoint past its last line.
func (t *Tailer) flush(ctx context.Context, s *source, b *batch) error {
	if len(b.msgs) == 0 && !b.dirty {
		return nil
	}
	wait := 100 * time.Millisecond
	for len(b.msgs) > 0 {
		err := t.opts.Publisher.PublishBatch(ctx, b.msgs)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t.logger.Warn("audit log batch not acknowledged by the bus; retrying", "events", len(b.msgs), "retry_in", wait, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
	t.count(func(st *Stats) { st.Events += len(b.msgs) })
	b.msgs, b.dirty = b.msgs[:0], false
	return t.commit(s)
}

// commit records s's position as the resume point.
func (t *Tailer) commit(s *source) error {
	if s.head == "" && s.done > 0 {
		h, err := headOf(s.f)
		if err != nil {
			return err
		}
		s.head = h
	}
	return saveCheckpoint(t.opts.Checkpoint, &Checkpoint{
		Path: t.opts.Path, Dev: s.id.dev, Inode: s.id.ino, Offset: s.done, Line: s.line, Head: s.head,
	})
}
