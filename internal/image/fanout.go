package image

import (
	"context"
	"io"
)

// maxKeptReplay is the largest replay buffer Fanout keeps between files;
// a buffer grown for a rare large file is dropped after it.
const maxKeptReplay = 1 << 20

// Fanout returns a Visitor that offers every entry to each of vs in turn,
// so that one walk (one decompression of each layer) feeds several
// consumers: inventory extractors, the secrets scanner, filesystem checks.
//
// Each visitor sees the whole content of a regular file from its start.
// Bytes that a visitor reads are kept in memory only while a later visitor
// may still want them: the last visitor reads what is kept, then the rest
// straight from the layer stream. So the memory one file costs is what the
// visitors before the last one read of it; put the visitor whose reads are
// unbounded (inventory, which reads whole binaries) last, and visitors with
// a small cap (secrets skip files over their size limit unread) before it.
//
// The returned Visitor reuses a buffer between files and must not be used
// by two walks at once.
func Fanout(vs ...Visitor) Visitor {
	if len(vs) == 1 {
		return vs[0]
	}
	var rp replay
	return func(ctx context.Context, f *File, r io.Reader) error {
		if r == nil {
			for _, v := range vs {
				if err := v(ctx, f, nil); err != nil {
					return err
				}
			}
			return nil
		}
		rp.reset(r)
		defer rp.release()
		for i, v := range vs {
			c := &cursor{rp: &rp, last: i == len(vs)-1}
			if err := v(ctx, f, c); err != nil {
				return err
			}
		}
		return nil
	}
}

// replay records the bytes read from one file's stream so that later
// visitors can read them again.
type replay struct {
	src io.Reader
	buf []byte
	err error // the stream's error once it ended (io.EOF or a read error)
}

func (rp *replay) reset(src io.Reader) {
	rp.src, rp.buf, rp.err = src, rp.buf[:0], nil
}

// release drops the stream and a buffer too large to keep.
func (rp *replay) release() {
	rp.src = nil
	if cap(rp.buf) > maxKeptReplay {
		rp.buf = nil
	}
}

// cursor is one visitor's reader of a replayed file.
type cursor struct {
	rp   *replay
	off  int
	last bool // no visitor comes after: read the stream without recording
}

func (c *cursor) Read(p []byte) (int, error) {
	rp := c.rp
	if c.off < len(rp.buf) {
		n := copy(p, rp.buf[c.off:])
		c.off += n
		return n, nil
	}
	if rp.err != nil {
		return 0, rp.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := rp.src.Read(p)
	if !c.last {
		rp.buf = append(rp.buf, p[:n]...)
		c.off += n
	}
	if err != nil {
		// Once the last visitor has read on, nobody replays, so its
		// error need not be kept; keeping it is harmless.
		rp.err = err
	}
	return n, err
}
