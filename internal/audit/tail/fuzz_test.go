package tail

import (
	"bytes"
	"testing"
)

// FuzzSplitter checks that the line reader yields the same lines whatever
// the read sizes, never a line before its newline, never one over max, and
// offsets that land just past each newline.
func FuzzSplitter(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\n{\"c\""), uint8(3), uint8(8))
	f.Add([]byte("\n\n\r\nxx"), uint8(1), uint8(1))
	f.Add(bytes.Repeat([]byte("long line "), 40), uint8(7), uint8(16))
	f.Fuzz(func(t *testing.T, data []byte, chunk, max uint8) {
		sp := splitter{max: int(max)}
		step := int(chunk)%64 + 1
		type line struct {
			text    string
			tooLong bool
			end     int
		}
		var got []line
		for off := 0; off < len(data); off += step {
			p := data[off:min(off+step, len(data))]
			base := off
			sp.feed(p, func(l []byte, tooLong bool, end int) {
				got = append(got, line{string(l), tooLong, base + end})
			})
		}
		var want []line
		pos := 0
		for {
			i := bytes.IndexByte(data[pos:], '\n')
			if i < 0 {
				break
			}
			l := data[pos : pos+i]
			pos += i + 1
			if len(l) > int(max) {
				want = append(want, line{"", true, pos})
			} else {
				want = append(want, line{string(l), false, pos})
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d lines, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("line %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		if rest := len(data) - pos; sp.pending() != rest {
			t.Fatalf("pending = %d, want the %d bytes after the last newline", sp.pending(), rest)
		}
	})
}
