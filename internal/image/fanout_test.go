package image_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/fstest"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/image/imagetest"
)

// reader is how a test visitor reads each file: n bytes (-1: all), in
// one-byte reads or in larger ones.
type reader struct {
	n       int
	oneByte bool
}

// recorder is a visitor that keeps what it read of each file.
type recorder struct {
	how  reader
	seen map[string]string
}

func (r *recorder) visit(_ context.Context, f *image.File, rd io.Reader) error {
	if rd == nil {
		return nil
	}
	if r.how.oneByte {
		rd = iotest.OneByteReader(rd)
	}
	if r.how.n >= 0 {
		rd = io.LimitReader(rd, int64(r.how.n))
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	r.seen[fmt.Sprintf("%d:%s", f.Layer.Index, f.Path)] = string(b)
	return nil
}

func TestFanout(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB: grows the replay buffer past what is kept
	img, err := image.FromV1(image.Source{Kind: image.KindOCILayout, Path: "t"}, imagetest.Image(t, v1.Config{},
		imagetest.Step{CreatedBy: "ADD / /", Layer: imagetest.Layer(t, fstest.MapFS{
			"a":     file("hello"),
			"big":   file(big + "x"),
			"empty": file(""),
			"d":     dir(),
		})},
		imagetest.Step{CreatedBy: "COPY a /a", Layer: imagetest.Layer(t, fstest.MapFS{"a": file("world!")})},
	))
	if err != nil {
		t.Fatal(err)
	}
	full := map[string]string{"1:a": "world!", "0:a": "hello", "0:big": big + "x", "0:empty": ""}
	prefix := func(n int) map[string]string {
		out := map[string]string{}
		for k, v := range full {
			out[k] = v[:min(n, len(v))]
		}
		return out
	}
	tests := []struct {
		name string
		how  []reader
	}{
		{"first reads all, last reads all", []reader{{n: -1}, {n: -1}}},
		{"first reads a prefix, last all", []reader{{n: 3}, {n: -1}}},
		{"first all, middle nothing, last a prefix", []reader{{n: -1}, {n: 0}, {n: 4}}},
		{"one-byte reads interleave buffer and stream", []reader{{n: 2, oneByte: true}, {n: 5, oneByte: true}, {n: -1, oneByte: true}}},
		{"only the last reads", []reader{{n: 0}, {n: -1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var recs []*recorder
			var vs []image.Visitor
			for _, h := range tt.how {
				r := &recorder{how: h, seen: map[string]string{}}
				recs = append(recs, r)
				vs = append(vs, r.visit)
			}
			// Walk twice with the same visitor: the replay buffer is reused.
			v := image.Fanout(vs...)
			for range 2 {
				if _, err := img.Walk(t.Context(), v); err != nil {
					t.Fatal(err)
				}
			}
			for i, r := range recs {
				want := full
				if n := tt.how[i].n; n >= 0 {
					want = prefix(n)
				}
				if diff := cmp.Diff(want, r.seen); diff != "" {
					t.Errorf("visitor %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestFanoutStopsOnError(t *testing.T) {
	img, err := image.FromV1(image.Source{Kind: image.KindOCILayout, Path: "t"}, layered(t))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	calls := 0
	_, err = img.Walk(t.Context(), image.Fanout(
		func(context.Context, *image.File, io.Reader) error { return boom },
		func(context.Context, *image.File, io.Reader) error { calls++; return nil },
	))
	if !errors.Is(err, boom) || calls != 0 {
		t.Fatalf("err %v, later visitor called %d times", err, calls)
	}
}

// TestFanoutReadError: a stream that fails mid-file fails every visitor
// that reads past the failure, with the same error.
func TestFanoutReadError(t *testing.T) {
	bad := errors.New("corrupt")
	var got []error
	v := image.Fanout(
		func(_ context.Context, _ *image.File, r io.Reader) error {
			_, err := io.ReadAll(r)
			got = append(got, err)
			return nil
		},
		func(_ context.Context, _ *image.File, r io.Reader) error {
			b, err := io.ReadAll(r)
			if !bytes.Equal(b, []byte("abc")) {
				t.Errorf("last visitor read %q, want the bytes before the failure", b)
			}
			got = append(got, err)
			return nil
		},
	)
	src := io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(bad))
	if err := v(t.Context(), &image.File{Path: "x"}, src); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !errors.Is(got[0], bad) || !errors.Is(got[1], bad) {
		t.Fatalf("errors %v", got)
	}
}
