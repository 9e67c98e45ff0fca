package bench

// The large synthetic image of BenchmarkImageScanFull: ≥ 500 MB
// uncompressed, ≥ 20k files, written once as an OCI layout (gzip layers)
// into a cache directory and reused by later runs.

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/palisade-sec/palisade/internal/inventory/inventorytest"
)

// bigImageVersion names the generated image's shape; change it when the
// generator changes so cached copies are rebuilt.
const bigImageVersion = "image-500m-v2"

// bigImage is the cached image: its OCI layout and what it holds.
type bigImage struct {
	Dir   string `json:"-"`
	Files int    `json:"files"`
	Bytes int64  `json:"bytes"` // uncompressed file content
}

// benchCacheDir is where generated benchmark inputs are kept between runs:
// $PALISADE_BENCH_CACHE, else the user cache dir.
func benchCacheDir(tb testing.TB) string {
	if d := os.Getenv("PALISADE_BENCH_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "palisade", "bench")
}

// buildBigImage returns the cached large image, generating it first when
// the cache lacks it. Generation is deterministic (fixed seeds; the Go
// binary is built with -trimpath) and streams every layer through a file,
// so it needs no more memory than one file.
func buildBigImage(b *testing.B, debBundle string) bigImage {
	b.Helper()
	dir := filepath.Join(benchCacheDir(b), bigImageVersion)
	marker := filepath.Join(dir, "complete.json")
	if raw, err := os.ReadFile(marker); err == nil {
		var bi bigImage
		if err := json.Unmarshal(raw, &bi); err == nil {
			bi.Dir = filepath.Join(dir, "layout")
			return bi
		}
	}
	start := time.Now()
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	g := &imageGen{b: b, dir: dir, rng: rand.New(rand.NewPCG(500, 20)), blob: rand.NewChaCha8([32]byte{5, 0, 0})}
	gobin := inventorytest.BuildVulnerableGo(b)
	g.layer("ADD rootfs.tar.xz / # debian:12 base", func(w *tarFile) {
		w.add("etc/os-release", 0o644, []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n"))
		w.add("var/lib/dpkg/status", 0o644, realDpkgStatus(b, debBundle))
		w.add("usr/bin/passwd", 0o4755, g.blobBytes(60<<10))
		w.add("usr/bin/su", 0o4755, g.blobBytes(70<<10))
		for i := range 9000 {
			w.add(fmt.Sprintf("usr/share/doc/pkg%04d/file%d.txt", i/9, i%9), 0o644, lines(g.rng, 64+g.rng.IntN(6000)))
		}
		for i := range 300 {
			w.add(fmt.Sprintf("usr/lib/x86_64-linux-gnu/lib%03d.so.1", i), 0o644, g.blobBytes(20<<10+g.rng.IntN(180<<10)))
		}
	})
	g.layer("RUN /bin/sh -c apt-get update && apt-get install -y ca-certificates curl # buildkit", func(w *tarFile) {
		for i := range 3 {
			w.add(fmt.Sprintf("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.%d", i), 0o644, lines(g.rng, 2<<20))
		}
		for i := range 20 {
			w.add(fmt.Sprintf("var/cache/apt/archives/pkg%02d_1.0-%d_amd64.deb", i, i), 0o644, g.blobBytes(1<<20))
		}
	})
	g.layer("COPY bin/ /usr/local/bin/ # buildkit", func(w *tarFile) {
		for _, n := range []string{"api", "worker", "migrate", "cli", "agent"} {
			w.add("usr/local/bin/"+n, 0o755, gobin)
		}
	})
	g.layer("RUN /bin/sh -c npm ci --omit=dev # buildkit", func(w *tarFile) {
		for i := range 3000 {
			name := fmt.Sprintf("pkg-%04d", i)
			base := "srv/app/node_modules/" + name + "/"
			w.add(base+"package.json", 0o644, []byte(fmt.Sprintf(`{"name":%q,"version":"%d.%d.%d","main":"index.js","license":"MIT"}`, name, 1+i%5, i%17, i%23)))
			w.add(base+"index.js", 0o644, lines(g.rng, 200+g.rng.IntN(2000)))
			w.add(base+"lib/util.js", 0o644, lines(g.rng, 200+g.rng.IntN(2000)))
			w.add(base+"README.md", 0o644, lines(g.rng, 100+g.rng.IntN(800)))
		}
	})
	g.layer("COPY data/ /var/lib/data/ # buildkit", func(w *tarFile) {
		for i := range 7 {
			w.addStream(fmt.Sprintf("var/lib/data/blob-%d.bin", i), 0o644, 60<<20, g.blob)
		}
	})
	g.write()
	bi := bigImage{Dir: filepath.Join(dir, "layout"), Files: g.files, Bytes: g.bytes}
	raw, _ := json.Marshal(bi)
	if err := os.WriteFile(marker, raw, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %s: %d files, %d MiB uncompressed, in %v", dir, bi.Files, bi.Bytes>>20, time.Since(start).Round(time.Second))
	return bi
}

// imageGen writes layers as tar files, then the OCI layout.
type imageGen struct {
	b       *testing.B
	dir     string
	rng     *rand.Rand
	blob    *rand.ChaCha8 // incompressible bytes
	tars    []string
	history []string
	files   int
	bytes   int64
}

// blobBytes returns n incompressible bytes.
func (g *imageGen) blobBytes(n int) []byte {
	out := make([]byte, n)
	_, _ = g.blob.Read(out)
	return out
}

// layer writes one layer's tar through fill.
func (g *imageGen) layer(createdBy string, fill func(w *tarFile)) {
	p := filepath.Join(g.dir, fmt.Sprintf("layer%d.tar", len(g.tars)))
	f, err := os.Create(p)
	if err != nil {
		g.b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := &tarFile{b: g.b, tw: tar.NewWriter(bw)}
	fill(w)
	if err := w.tw.Close(); err != nil {
		g.b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		g.b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		g.b.Fatal(err)
	}
	g.tars = append(g.tars, p)
	g.history = append(g.history, createdBy)
	g.files += w.files
	g.bytes += w.bytes
}

// write builds the image from the tars (gzip, fastest level: the
// generator's time, not the scan's), writes the layout and drops the tars.
func (g *imageGen) write() {
	img := empty.Image
	for i, p := range g.tars {
		l, err := tarball.LayerFromFile(p, tarball.WithCompressionLevel(gzip.BestSpeed))
		if err != nil {
			g.b.Fatal(err)
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: g.history[i], Created: v1.Time{Time: time.Unix(1700000000, 0)}}})
		if err != nil {
			g.b.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		g.b.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config = v1.Config{
		Env:          []string{"PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Entrypoint:   []string{"/usr/local/bin/api"},
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		g.b.Fatal(err)
	}
	lp, err := layout.Write(filepath.Join(g.dir, "layout"), empty.Index)
	if err != nil {
		g.b.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		g.b.Fatal(err)
	}
	for _, p := range g.tars {
		os.Remove(p)
	}
}

// tarFile writes regular files into one layer's tar.
type tarFile struct {
	b     *testing.B
	tw    *tar.Writer
	files int
	bytes int64
}

func (w *tarFile) header(name string, mode, size int64) {
	hdr := &tar.Header{Name: name, Mode: mode, Size: size, Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}
	if err := w.tw.WriteHeader(hdr); err != nil {
		w.b.Fatal(err)
	}
	w.files++
	w.bytes += size
}

func (w *tarFile) add(name string, mode int64, data []byte) {
	w.header(name, mode, int64(len(data)))
	if _, err := w.tw.Write(data); err != nil {
		w.b.Fatal(err)
	}
}

// addStream writes size bytes of r without holding them in memory.
func (w *tarFile) addStream(name string, mode, size int64, r io.Reader) {
	w.header(name, mode, size)
	if _, err := io.CopyN(w.tw, r, size); err != nil {
		w.b.Fatal(err)
	}
}

// realDpkgStatus is a dpkg status database of real Debian 12 packages at
// real versions: every source package of the Debian advisory bundle, at
// a version its own changelog names (the fix version of the middle one of
// its advisories, so some advisories match and some do not).
func realDpkgStatus(b *testing.B, bundle string) []byte {
	zr, err := zip.OpenReader(bundle)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	fixes := map[string][]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			b.Fatal(err)
		}
		var doc struct {
			Affected []struct {
				Package struct{ Name string }
				Ranges  []struct {
					Events []struct{ Fixed string }
				}
			}
		}
		err = json.NewDecoder(rc).Decode(&doc)
		rc.Close()
		if err != nil {
			b.Fatalf("%s %s: %v", bundle, f.Name, err)
		}
		for _, a := range doc.Affected {
			for _, r := range a.Ranges {
				for _, e := range r.Events {
					if e.Fixed != "" {
						fixes[a.Package.Name] = append(fixes[a.Package.Name], e.Fixed)
					}
				}
			}
		}
	}
	names := make([]string, 0, len(fixes))
	for n := range fixes {
		names = append(names, n)
	}
	slices.Sort(names)
	var sb strings.Builder
	for _, n := range names {
		vs := fixes[n]
		slices.Sort(vs)
		v := vs[len(vs)/2]
		fmt.Fprintf(&sb, "Package: %s\nStatus: install ok installed\nPriority: optional\nInstalled-Size: %s\nMaintainer: Debian <debian@lists.debian.org>\nArchitecture: amd64\nVersion: %s\nDescription: %s\n from the Debian 12 archive\n\n", n, strconv.Itoa(100+len(n)*37), v, n)
	}
	return []byte(sb.String())
}

// lines returns n bytes of lowercase words in lines of 20 to 100 bytes,
// like documentation and source files (text, used by the smaller
// benchmark, is one long line: a worst case for line-based scanners, not a
// typical file).
func lines(rng *rand.Rand, n int) []byte {
	out := text(rng, n)
	for i := rng.IntN(80) + 20; i < n; i += rng.IntN(80) + 20 {
		out[i] = '\n'
	}
	return out
}
