package audit

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
)

// Parallel decoding of JSON-lines input: one goroutine cuts the input into
// batches of lines, Workers goroutines decode, normalize and Prepare them,
// and the calling goroutine emits each batch's events in input order. At
// most batchesInFlight batches exist at once, so memory stays bounded
// however long the input is (a burst queues in the reader, not here).
const (
	batchLines      = 256
	batchBytes      = 1 << 20 // a batch also ends once its lines reach this size
	batchesInFlight = 4       // per worker
)

// lineBatch is a run of consecutive input lines and, once a worker is
// done with it, their events.
type lineBatch struct {
	first int    // 1-based line number of lines[0]
	buf   []byte // the lines, back to back
	ends  []int  // end offset of each line in buf
	err   error  // reading the input failed after these lines
	done  chan struct{}
	evs   []*Event // decoded, in order
	stats Stats    // Events, Skipped and per-record errors of the batch
}

func (d *decoder) parallelLines(ctx context.Context, br *bufio.Reader, first []byte) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := d.opts.Workers
	work := make(chan *lineBatch, workers)
	order := make(chan *lineBatch, workers*batchesInFlight)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.decodeBatches(work)
		}()
	}
	go func() {
		defer close(order)
		defer close(work)
		d.cutBatches(ctx, br, first, work, order)
	}()
	defer wg.Wait()
	for b := range order {
		<-b.done
		// Counts as Decode would have made them, batch by batch.
		d.stats.Skipped += b.stats.Skipped
		d.stats.ErrorCount += b.stats.ErrorCount
		for _, err := range b.stats.Errors {
			if len(d.stats.Errors) < maxErrorsKept {
				d.stats.Errors = append(d.stats.Errors, err)
			}
		}
		for i, e := range b.evs {
			d.stats.Events++
			if d.now != nil {
				e.IngestTime = d.now()
			}
			if err := d.emit(e); err != nil {
				b.evs[i] = nil
				cancel()
				drain(order)
				return errEmit{err}
			}
			b.evs[i] = nil // let the event go as soon as it is processed
		}
		if b.err != nil {
			drain(order)
			return b.err
		}
	}
	return ctx.Err()
}

func drain(order <-chan *lineBatch) {
	for b := range order {
		<-b.done
	}
}

// cutBatches reads lines into batches and hands each to a worker and, in
// order, to the emitting goroutine.
func (d *decoder) cutBatches(ctx context.Context, br *bufio.Reader, first []byte, work, order chan<- *lineBatch) {
	b := &lineBatch{first: 1, done: make(chan struct{})}
	b.buf = append(b.buf, first...)
	b.ends = append(b.ends, len(b.buf))
	n := 1
	send := func() bool {
		select {
		case order <- b:
		case <-ctx.Done():
			return false
		}
		work <- b // a worker always takes it: workers exit only when work closes
		return true
	}
	for {
		if len(b.ends) >= batchLines || len(b.buf) >= batchBytes {
			size := len(b.buf) // b belongs to a worker once sent
			if !send() {
				return
			}
			b = &lineBatch{first: n + 1, done: make(chan struct{}), buf: make([]byte, 0, size+size/4)}
		}
		var err error
		b.buf, err = appendLine(br, b.buf)
		if err == io.EOF && len(b.buf) == b.endOffset() {
			send()
			return
		}
		if err != nil && err != io.EOF {
			b.buf = b.buf[:b.endOffset()]
			b.err = fmt.Errorf("read %s line %d: %w", d.src.Name, n+1, err)
			send()
			return
		}
		n++
		b.ends = append(b.ends, len(b.buf))
	}
}

func (b *lineBatch) endOffset() int {
	if len(b.ends) == 0 {
		return 0
	}
	return b.ends[len(b.ends)-1]
}

// appendLine appends one line of at most maxLine bytes, without the
// newline, to buf.
func appendLine(br *bufio.Reader, buf []byte) ([]byte, error) {
	start := len(buf)
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf)-start > maxLine {
			return buf[:start], fmt.Errorf("line longer than %d bytes", maxLine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == nil {
			buf = buf[:len(buf)-1]
		}
		return buf, err
	}
}

// decodeBatches is one worker: it decodes every batch it is given.
func (d *decoder) decodeBatches(work <-chan *lineBatch) {
	// now stays nil: the emitting goroutine stamps the ingest time, so
	// that now is only ever called from one goroutine.
	w := &decoder{src: d.src, opts: d.opts}
	if d.fast != nil {
		w.fast = newFastDecoder()
	}
	var cur *lineBatch
	w.emit = func(e *Event) error {
		if d.opts.Prepare != nil {
			d.opts.Prepare(e)
		}
		cur.evs = append(cur.evs, e)
		return nil
	}
	for b := range work {
		cur = b
		w.stats = Stats{}
		start := 0
		for i, end := range b.ends {
			line := b.buf[start:end]
			start = end
			if t := bytes.TrimSpace(line); len(t) > 0 {
				if err := w.value(t, d.src, 0); err != nil {
					w.stats.addError(&RecordError{Source: d.src.Name, Line: b.first + i, Err: err})
				}
			}
		}
		b.stats = w.stats
		b.buf, b.ends = nil, nil
		close(b.done)
	}
}
