package secrets

import (
	"bytes"
	"context"
	"fmt"
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
	f      image.File
	p      string
	data   []byte
	large  bool
	binary bool // judged binary from its first sniffSize bytes, not read further
	err    error
}

// ImageWalk is one secrets scan of an image fed by a walk that the
// caller runs, so that a single pass over the layers can feed other
// consumers too (see image.Fanout). ScanImage is NewImageWalk,
// img.Walk(ctx, w.Visit), w.Result. Visit hands each file to a worker
// goroutine; Result must be called exactly once, after the walk, to stop it.
type ImageWalk struct {
	sc   *scan
	img  *image.Image
	head []byte // the walker's sniff buffer
	jobs chan *job
	free chan []byte
	done chan struct{}
}

// NewImageWalk checks the configuration and starts the worker of one
// scan of img.
func (s *Scanner) NewImageWalk(img *image.Image) (*ImageWalk, error) {
	sc, err := s.start(img)
	if err != nil {
		return nil, err
	}
	w := &ImageWalk{sc: sc, img: img, head: make([]byte, sniffSize), jobs: make(chan *job, pipelineDepth), free: make(chan []byte, pipelineDepth+2), done: make(chan struct{})}
	for range cap(w.free) {
		w.free <- nil
	}
	go func() {
		defer close(w.done)
		for j := range w.jobs {
			sc.finish(j)
			buf := j.data[:0]
			if cap(buf) > maxPooledBuf {
				buf = nil
			}
			w.free <- buf
		}
	}()
	return w, nil
}

// Visit is the image.Visitor of the scan: it reads a regular file of at
// most the scanner's MaxFileSize (larger ones are judged by path, unread)
// and queues it for the worker.
func (w *ImageWalk) Visit(ctx context.Context, f *image.File, r io.Reader) error {
	if r == nil {
		return nil
	}
	sc := w.sc
	p := absPath(f.Path)
	if sc.allow.pathAllowed(p) {
		return nil
	}
	var buf []byte
	select {
	case buf = <-w.free:
	case <-ctx.Done():
		return ctx.Err()
	}
	size := int64(-1)
	if f.Info != nil {
		size = f.Info.Size()
	}
	j := &job{f: *f, p: p}
	if size > sniffSize && size <= sc.eng.max && !w.named(p) {
		// Most large files in images are binaries (libraries,
		// executables, archives) that no rule judges by content: look at
		// the head the engine would sniff and, if binary, leave the rest
		// unread (the walk skips it) instead of copying it for nothing.
		// The worker returns j.data's buffer to the pool.
		j.data = buf[:0]
		n, err := io.ReadFull(r, w.head)
		if err != nil {
			j.err = fmt.Errorf("read file: %w", err)
			w.jobs <- j
			return nil
		}
		if isBinary(w.head[:n]) {
			j.binary = true
			w.jobs <- j
			return nil
		}
		r = io.MultiReader(bytes.NewReader(w.head[:n]), r)
	}
	j.data, j.large, j.err = load(r, size, sc.eng.max, buf)
	w.jobs <- j
	return nil
}

// named reports whether a file rule names the file at p: its content
// then matters even when it is binary (a digest identifies it).
func (w *ImageWalk) named(p string) bool {
	for _, fr := range w.sc.eng.files {
		if fr.Path(p) {
			return true
		}
	}
	return false
}

// Result waits for the worker to judge every queued file and returns the
// findings. view and walkErr are what image.Image.Walk returned; a
// non-nil walkErr makes the result partial and is returned wrapped, with
// the partial result.
func (w *ImageWalk) Result(view *image.View, walkErr error) (*Result, error) {
	close(w.jobs)
	<-w.done
	sc := w.sc
	if view != nil {
		sc.res.LayerErrors = view.Errors
		sc.res.Partial = sc.res.Partial || view.Partial
	}
	sc.res.Findings = sc.rec.findings()
	if walkErr != nil {
		sc.res.Partial = true
		return sc.res, fmt.Errorf("scan image %s for secrets: %w", w.img.Source, walkErr)
	}
	return sc.res, nil
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
	if j.binary {
		sc.res.SkippedBinary++
		return
	}
	hits, why := sc.eng.judge(j.p, j.data, j.large)
	sc.record(&j.f, j.p, hits, why)
}
