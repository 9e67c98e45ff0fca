package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/list"
)

// Synthetic image shape: benchLayers layers of filesPerLayer small files
// each, plus large files, package databases and npm manifests so the
// extractors have real work.
const (
	benchLayers   = 4
	filesPerLayer = 5_500
	largeFiles    = 4
	largeSize     = 8 << 20
)

// BenchmarkImageScan measures inventory.Scan over an OCI layout against
// the physical floor: decompressing the same layers and reading every tar
// header and byte (DESIGN.md, Performance). It reports the ratio
// scan/list, and the peak RSS growth of each (VmHWM after resetting it
// through /proc/self/clear_refs).
func BenchmarkImageScan(b *testing.B) {
	dir := buildLayout(b)
	src := image.Source{Kind: image.KindOCILayout, Path: dir}
	exs := list.Default()
	var scanDur, listDur, openDur time.Duration
	var scanPeak, listPeak int64
	files, pkgs := 0, 0
	for b.Loop() {
		ctx := b.Context()
		start := time.Now()
		img, err := image.Open(ctx, src, image.Options{})
		if err != nil {
			b.Fatal(err)
		}
		openDur += time.Since(start)
		runList := func() {
			base := rssBase()
			start := time.Now()
			n, err := listLayers(ctx, img)
			if err != nil {
				b.Fatal(err)
			}
			listDur += time.Since(start)
			listPeak = max(listPeak, peakRSS()-base)
			files = n
		}
		runScan := func() {
			base := rssBase()
			start := time.Now()
			res, err := inventory.Scan(ctx, img, exs, inventory.Options{})
			if err != nil {
				b.Fatal(err)
			}
			scanDur += time.Since(start)
			scanPeak = max(scanPeak, peakRSS()-base)
			if res.Partial || len(res.FileErrors) > 0 {
				b.Fatalf("partial=%v errors=%v", res.Partial, res.FileErrors)
			}
			pkgs = len(res.Packages)
		}
		// Two rounds per op in alternating order (list, scan, scan,
		// list), so neither side always runs on a warm cache or right
		// after the other's garbage, and one op is already a fair sample.
		runList()
		runScan()
		runScan()
		runList()
	}
	b.ReportMetric(float64(scanDur)/float64(listDur), "scan/list")
	b.ReportMetric(float64(openDur.Milliseconds())/float64(b.N), "open-ms/op")
	b.ReportMetric(float64(listDur.Milliseconds())/float64(2*b.N), "list-ms/run")
	b.ReportMetric(float64(scanDur.Milliseconds())/float64(2*b.N), "scan-ms/run")
	b.ReportMetric(float64(listPeak)/(1<<20), "list-peakRSS-MiB")
	b.ReportMetric(float64(scanPeak)/(1<<20), "scan-peakRSS-MiB")
	b.ReportMetric(float64(files), "entries")
	b.ReportMetric(float64(pkgs), "packages")
}

// buildLayout writes the synthetic image as an OCI layout in a temp dir.
func buildLayout(b *testing.B) string {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var layers [][]byte
	for l := range benchLayers {
		tl := newTarLayer(b)
		add := tl.add
		for i := range filesPerLayer {
			size := 64 + rng.IntN(4096)
			add(fmt.Sprintf("usr/share/l%d/d%03d/f%05d.txt", l, i/100, i), 0o644, text(rng, size))
		}
		for i := range 500 {
			name := "pkg" + strconv.Itoa(l) + "-" + strconv.Itoa(i)
			add("srv/app/node_modules/"+name+"/package.json", 0o644, []byte(`{"name":"`+name+`","version":"1.0.`+strconv.Itoa(i)+`"}`))
		}
		if l == 0 {
			add("etc/os-release", 0o644, []byte("ID=debian\nVERSION_ID=\"12\"\n"))
			add("var/lib/dpkg/status", 0o644, dpkgStatus(800))
		}
		if l < largeFiles {
			big := text(rng, largeSize)
			if l%2 == 0 {
				copy(big, "\x7fELF") // an executable that is not Go: read and rejected
				add(fmt.Sprintf("usr/bin/big%d", l), 0o755, big)
			} else {
				add(fmt.Sprintf("var/cache/big%d.bin", l), 0o644, big)
			}
		}
		layers = append(layers, tl.close())
	}
	return writeLayout(b, layers)
}

// text returns n bytes of lowercase words: compressible like real files.
func text(rng *rand.Rand, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		if rng.IntN(7) == 0 {
			out[i] = ' '
		} else {
			out[i] = byte('a' + rng.IntN(26))
		}
	}
	return out
}

func dpkgStatus(n int) []byte {
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "Package: lib%d\nStatus: install ok installed\nArchitecture: amd64\nSource: src%d (1.%d-1)\nVersion: 1.%d-1+b1\nDescription: synthetic\n lines\n\n", i, i/3, i, i)
	}
	return []byte(sb.String())
}
