package bench

// Helpers the benchmarks share: measuring memory and CPU, the physical floor
// of reading an image, and writing synthetic images as OCI layouts.

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/palisade-sec/palisade/internal/image"
)

// listLayers is the baseline: every layer decompressed once, every header
// read, every byte drained. It returns the number of entries.
func listLayers(ctx context.Context, img *image.Image) (int, error) {
	n := 0
	_, err := img.Walk(ctx, func(_ context.Context, _ *image.File, r io.Reader) error {
		n++
		if r != nil {
			_, err := io.Copy(io.Discard, r)
			return err
		}
		return nil
	})
	return n, err
}

// rssBase resets the peak RSS (Linux clear_refs 5) and returns the
// current RSS, so peakRSS()-rssBase() is the growth during the step.
func rssBase() int64 {
	runtime.GC()
	debug.FreeOSMemory() // return the previous step's heap, so growth is measured
	return resetPeak()
}

// resetPeak resets the peak RSS (VmHWM) to the current RSS, where the
// kernel allows it, and returns the current RSS.
func resetPeak() int64 {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	return procStatus("VmRSS:")
}

func peakRSS() int64 { return procStatus("VmHWM:") }

// procStatus returns a /proc/self/status field in bytes, 0 if unknown.
func procStatus(key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is the user+system CPU time of process pid so far, from
// /proc/PID/stat (in clock ticks of 10 ms, Linux's USER_HZ on every
// architecture Go supports), or 0 when it cannot be read.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces and parentheses: fields start
	// after the last ')'. utime and stime are fields 14 and 15, so the
	// 12th and 13th after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

// tarLayer collects regular files into one uncompressed tar layer.
type tarLayer struct {
	tb  testing.TB
	buf bytes.Buffer
	tw  *tar.Writer
}

func newTarLayer(tb testing.TB) *tarLayer {
	l := &tarLayer{tb: tb}
	l.tw = tar.NewWriter(&l.buf)
	return l
}

func (l *tarLayer) add(name string, mode int64, data []byte) {
	hdr := &tar.Header{Name: name, Mode: mode, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}
	if err := l.tw.WriteHeader(hdr); err != nil {
		l.tb.Fatal(err)
	}
	if _, err := l.tw.Write(data); err != nil {
		l.tb.Fatal(err)
	}
}

// close finishes the tar and returns its bytes.
func (l *tarLayer) close() []byte {
	if err := l.tw.Close(); err != nil {
		l.tb.Fatal(err)
	}
	return l.buf.Bytes()
}

// writeLayout writes an image of the raw tar layers, base first, as an OCI
// layout in a temporary directory and returns the directory.
func writeLayout(tb testing.TB, layers [][]byte) string {
	tb.Helper()
	img := empty.Image
	for _, raw := range layers {
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
		if err != nil {
			tb.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			tb.Fatal(err)
		}
	}
	dir := tb.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		tb.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		tb.Fatal(err)
	}
	return dir
}
