package secrets

import (
	"context"
	"io"

	"github.com/palisade-sec/palisade/internal/image"
)

// A walk must read each file while the visitor runs, but judging the
// content need not hold the walk up: the walker reads a file into a
// buffer and hands it to one worker goroutine, so decompressing the next
// file overlaps with scanning this one. One worker keeps files in walk
// order, which the recorder relies on (the first occurrence of a secret
// is the topmost one); a small pool of buffers bounds memory and makes the
// walker wait when the worker falls behind.
const (
	pipelineDepth = 4
	// maxPooledBuf is the largest buffer kept for reuse; a buffer grown
	// for a rare large file is dropped after use.
	maxPooledBuf = 1 << 20
)

// job is one file handed from the walker to the worker.
type job struct {
	f     image.File
	p     string
	data  []byte
	large bool
	err   error
}

// walkPipelined walks img, scanning files on a worker goroutine. It
// returns once the worker has finished every file the walk produced.
func (sc *scan) walkPipelined(ctx context.Context, img *image.Image) (*image.View, error) {
	jobs := make(chan *job, pipelineDepth)
	free := make(chan []byte, pipelineDepth+2)
	for range cap(free) {
		free <- nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for j := range jobs {
			sc.finish(j)
			buf := j.data[:0]
			if cap(buf) > maxPooledBuf {
				buf = nil
			}
			free <- buf
		}
	}()
	view, err := img.Walk(ctx, func(ctx context.Context, f *image.File, r io.Reader) error {
		if r == nil {
			return nil
		}
		p := absPath(f.Path)
		if sc.allow.pathAllowed(p) {
			return nil
		}
		var buf []byte
		select {
		case buf = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
		size := int64(-1)
		if f.Info != nil {
			size = f.Info.Size()
		}
		j := &job{f: *f, p: p}
		j.data, j.large, j.err = load(r, size, sc.eng.max, buf)
		jobs <- j
		return nil
	})
	close(jobs)
	<-done
	return view, err
}

// finish judges one loaded file and records its findings. Only the
// worker calls it.
func (sc *scan) finish(j *job) {
	if j.err != nil {
		// A truncated or unreadable file is recorded; the walk goes on.
		sc.res.FileErrors = append(sc.res.FileErrors, &image.FileError{Layer: j.f.Layer.Digest, Index: j.f.Layer.Index, Path: j.f.Path, Err: j.err})
		sc.res.Partial = true
		return
	}
	hits, why := sc.eng.judge(j.p, j.data, j.large)
	sc.record(&j.f, j.p, hits, why)
}
