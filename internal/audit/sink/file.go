package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
)

// FileOptions configures a JSON lines file sink.
type FileOptions struct {
	Name string
	Path string
	// MaxBytes rotates the file once it would grow past this size
	// (default 100 MiB); MaxFiles rotated files are kept as PATH.1 (newest)
	// … PATH.N (default 5).
	MaxBytes int64
	MaxFiles int
}

// File appends one JSON object per alert and line (the format of a webhook
// delivery's alerts), and fsyncs before Send
// returns, so an acknowledged alert is on disk. It is what log shippers
// (Fluent Bit, Vector, Filebeat) tail.
type File struct {
	opts FileOptions
	mu   sync.Mutex
	f    *os.File
	size int64
}

// NewFile opens (creating if needed) the file sink's file.
func NewFile(opts FileOptions) (*File, error) {
	if opts.Path == "" {
		return nil, fmt.Errorf("file sink %s: a path is required", opts.Name)
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 100 << 20
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = 5
	}
	fs := &File{opts: opts}
	if err := fs.openLocked(); err != nil {
		return nil, err
	}
	return fs, nil
}

// Name returns the sink's name.
func (fs *File) Name() string { return fs.opts.Name }

func (fs *File) openLocked() error {
	f, err := os.OpenFile(fs.opts.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("file sink %s: open: %w", fs.opts.Name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("file sink %s: stat: %w", fs.opts.Name, err)
	}
	fs.f, fs.size = f, fi.Size()
	return nil
}

// Send appends the alerts and syncs the file.
func (fs *File) Send(ctx context.Context, alerts []Alert) error {
	var buf []byte
	alerts = withSource(alerts)
	for i := range alerts {
		b, err := json.Marshal(&alerts[i])
		if err != nil {
			return fmt.Errorf("file sink %s: encode alert %s: %w", fs.opts.Name, alerts[i].ID, err)
		}
		buf = append(append(buf, b...), '\n')
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.f == nil {
		if err := fs.openLocked(); err != nil {
			return err
		}
	}
	if fs.size > 0 && fs.size+int64(len(buf)) > fs.opts.MaxBytes {
		if err := fs.rotateLocked(); err != nil {
			return err
		}
	}
	n, err := fs.f.Write(buf)
	fs.size += int64(n)
	if err != nil {
		return fmt.Errorf("file sink %s: write: %w", fs.opts.Name, err)
	}
	if err := fs.f.Sync(); err != nil {
		return fmt.Errorf("file sink %s: sync: %w", fs.opts.Name, err)
	}
	return nil
}

// rotateLocked shifts PATH.i to PATH.i+1, dropping the oldest, and starts
// a new PATH.
func (fs *File) rotateLocked() error {
	if err := fs.f.Close(); err != nil {
		return fmt.Errorf("file sink %s: close before rotating: %w", fs.opts.Name, err)
	}
	fs.f = nil
	p := fs.opts.Path
	_ = os.Remove(p + "." + strconv.Itoa(fs.opts.MaxFiles))
	for i := fs.opts.MaxFiles - 1; i >= 1; i-- {
		if err := os.Rename(p+"."+strconv.Itoa(i), p+"."+strconv.Itoa(i+1)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("file sink %s: rotate: %w", fs.opts.Name, err)
		}
	}
	if err := os.Rename(p, p+".1"); err != nil {
		return fmt.Errorf("file sink %s: rotate: %w", fs.opts.Name, err)
	}
	return fs.openLocked()
}

// Close closes the file.
func (fs *File) Close() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.f == nil {
		return nil
	}
	err := fs.f.Close()
	fs.f = nil
	return err
}

var _ Sink = (*File)(nil)
