package tail

import "bytes"

// splitter cuts a byte stream into newline-terminated lines, whatever the
// chunking of the reads: a line is emitted only once its newline arrived,
// so a writer caught mid-line is waited for, never half-read. A line longer
// than max is reported (tooLong) once its newline arrives and its bytes are
// not kept, so a runaway writer cannot make the tailer's memory grow.
type splitter struct {
	max      int
	buf      []byte // bytes of the current, unterminated line
	skipping bool   // the current line passed max; its bytes are dropped
	skipped  int    // bytes dropped from the current line
}

// feed splits p, calling emit for each complete line (without its newline)
// and end, the number of bytes of p consumed up to and including that
// newline. emit's line is only valid during the call.
func (s *splitter) feed(p []byte, emit func(line []byte, tooLong bool, end int)) {
	off := 0
	for off < len(p) {
		i := bytes.IndexByte(p[off:], '\n')
		if i < 0 {
			s.keep(p[off:])
			return
		}
		chunk := p[off : off+i]
		off += i + 1
		switch {
		case s.skipping:
			emit(nil, true, off)
		case len(s.buf) == 0 && len(chunk) <= s.max:
			emit(chunk, false, off) // the common case: no copy
		case len(s.buf)+len(chunk) > s.max:
			emit(nil, true, off)
		default:
			s.buf = append(s.buf, chunk...)
			emit(s.buf, false, off)
		}
		s.reset()
	}
}

// keep holds the unterminated tail of a read.
func (s *splitter) keep(p []byte) {
	if s.skipping || len(s.buf)+len(p) > s.max {
		s.skipping = true
		s.skipped += len(s.buf) + len(p)
		s.buf = s.buf[:0]
		return
	}
	s.buf = append(s.buf, p...)
}

// pending returns how many bytes of an unterminated line are held or were
// dropped: the distance from the last emitted line's end to the read position.
func (s *splitter) pending() int { return len(s.buf) + s.skipped }

// partial returns the unterminated line, for a rotated file whose writer
// will never finish it.
func (s *splitter) partial() (line []byte, tooLong bool) { return s.buf, s.skipping }

func (s *splitter) reset() {
	s.buf, s.skipping, s.skipped = s.buf[:0], false, 0
}
