package imagescan

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/image/imagetest"
	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/list"
	"github.com/palisade-sec/palisade/internal/sharedtest"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

// testDB imports the real Debian advisories once per test.
func testDB(t *testing.T) *vulndb.DB {
	t.Helper()
	bundle := filepath.Join("..", "..", "..", "shared", "vulndb", "Debian-all.zip")
	if _, err := os.Stat(bundle); err != nil {
		sharedtest.Missing(t, "real advisory bundles not found: %v", err)
	}
	p := filepath.Join(t.TempDir(), "osv.db")
	if _, err := vulndb.Import(t.Context(), p, []string{bundle}, vulndb.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(t.Context(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// countingImage wraps a v1.Image so that the test sees every time a
// layer is decompressed, and can break one layer's stream.
type countingImage struct {
	v1.Image
	opens  *atomic.Int64
	breakN int // index of the layer whose stream fails half-way; -1 for none
}

func (c countingImage) Layers() ([]v1.Layer, error) {
	ls, err := c.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		out[i] = countingLayer{Layer: l, opens: c.opens, broken: i == c.breakN}
	}
	return out, nil
}

type countingLayer struct {
	v1.Layer
	opens  *atomic.Int64
	broken bool
}

func (c countingLayer) Uncompressed() (io.ReadCloser, error) {
	c.opens.Add(1)
	rc, err := c.Layer.Uncompressed()
	if err != nil || !c.broken {
		return rc, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(rc, 1024), errReader{}), rc}, nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("unexpected EOF in gzip stream") }

// configTestImage is a Debian-like image that runs as root, keeps an apt
// cache, carries a standard and a custom setuid binary, and an AWS secret
// in ENV.
func configTestImage(t *testing.T) v1.Image {
	return imagetest.Image(t, v1.Config{
		Env:          []string{"PATH=/usr/bin", "AWS_SECRET_ACCESS_KEY=Zq8vR2mK7pT4xW9nB3cL6hJ1fD5sG0yEaU2iO8rP"},
		ExposedPorts: map[string]struct{}{"80/tcp": {}},
	},
		imagetest.Step{CreatedBy: "ADD rootfs.tar /", Layer: imagetest.Layer(t, fstest.MapFS{
			"etc/os-release":      {Data: []byte("ID=debian\nVERSION_ID=\"12\"\n")},
			"var/lib/dpkg/status": {Data: []byte("Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10\nArchitecture: amd64\n\n")},
			"usr/bin/passwd":      {Data: []byte("\x7fELF passwd"), Mode: 0o755 | fs.ModeSetuid},
		})},
		imagetest.Step{CreatedBy: "ENV AWS_SECRET_ACCESS_KEY=Zq8vR2mK7pT4xW9nB3cL6hJ1fD5sG0yEaU2iO8rP"},
		imagetest.Step{CreatedBy: "RUN apt-get update && apt-get install -y curl", Layer: imagetest.Layer(t, fstest.MapFS{
			"var/cache/apt/archives/curl_7.88.1-10_amd64.deb": {Data: make([]byte, 4096)},
			"var/lib/apt/lists/deb.debian.org_InRelease":      {Data: []byte("Origin: Debian\n")},
		})},
		imagetest.Step{CreatedBy: "COPY helper /usr/local/bin/helper", Layer: imagetest.Layer(t, fstest.MapFS{
			"usr/local/bin/helper": {Data: []byte("#!/bin/sh\necho hi\n"), Mode: 0o4755 | fs.ModeSetuid},
		})},
	)
}

func scanOpts(db *vulndb.DB) Options {
	return Options{
		Extractors: list.Default(),
		DB:         db,
		Detectors:  []Detector{Secrets{}, ImageConfig{}},
		Baseline:   config.Baseline{},
		Now:        func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	}
}

func evidenceOf(f *finding.Finding, name string) string {
	for _, e := range f.Evidence {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// testScanImageConfig scans a real image once and checks every
// image-config finding and its layer attribution, and that the one walk
// decompressed each layer exactly once for inventory, secrets and the
// filesystem checks together.
func TestScan(t *testing.T) {
	db := testDB(t)
	t.Run("image config in one walk", func(t *testing.T) { testScanImageConfig(t, db) })
	t.Run("partial layer", func(t *testing.T) { testScanPartialLayer(t, db) })
}

func testScanImageConfig(t *testing.T, db *vulndb.DB) {
	var opens atomic.Int64
	img, err := image.FromV1(image.Source{Kind: image.KindOCILayout, Path: "test"}, countingImage{Image: configTestImage(t), opens: &opens, breakN: -1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Scan(t.Context(), img, "test", finding.Tool{Name: "palisade"}, scanOpts(db))
	if err != nil {
		t.Fatal(err)
	}
	if got := opens.Load(); got != int64(len(img.Layers)) {
		t.Errorf("layers decompressed %d times for %d layers, want one walk", got, len(img.Layers))
	}
	if res.Report.Partial {
		t.Fatalf("partial: %v", res.Report.Errors)
	}
	type want struct {
		rule, file, layer string
		sev               finding.Severity
	}
	wants := []want{
		{"image/root-user", "", "", finding.SeverityHigh},
		{"image/no-healthcheck", "", "", finding.SeverityLow},
		{"image/privileged-port", "", "", finding.SeverityLow},
		{"image/config-secret", "", "", finding.SeverityCritical},
		{"image/setuid-file", "/usr/bin/passwd", "0", finding.SeverityInfo},
		{"image/setuid-file", "/usr/local/bin/helper", "2", finding.SeverityLow},
		{"image/package-cache", "/var/cache/apt/archives", "1", finding.SeverityLow},
		{"image/package-cache", "/var/lib/apt/lists", "1", finding.SeverityLow},
	}
	fs := res.Report.Findings
	for _, w := range wants {
		i := slices.IndexFunc(fs, func(f finding.Finding) bool { return f.RuleID == w.rule && f.Resource.File == w.file })
		if i < 0 {
			t.Errorf("no %s finding for %q", w.rule, w.file)
			continue
		}
		f := &fs[i]
		if f.Severity != w.sev || evidenceOf(f, "layer") != w.layer {
			t.Errorf("%s %s: severity %s layer %q, want %s %q", w.rule, w.file, f.Severity, evidenceOf(f, "layer"), w.sev, w.layer)
		}
		if w.layer != "" && evidenceOf(f, "layerDigest") != img.Layers[atoi(w.layer)].Digest {
			t.Errorf("%s %s: layer digest %q", w.rule, w.file, evidenceOf(f, "layerDigest"))
		}
	}
	i := slices.IndexFunc(fs, func(f finding.Finding) bool { return f.RuleID == "image/config-secret" })
	if i >= 0 {
		f := &fs[i]
		if f.Category != "secret" || evidenceOf(f, "where") != "ENV AWS_SECRET_ACCESS_KEY" || strings.Contains(f.Message+evidenceOf(f, "match"), "Zq8vR2mK7pT4") {
			t.Errorf("config secret finding: %+v", f)
		}
	}
	c := slices.IndexFunc(fs, func(f finding.Finding) bool {
		return f.RuleID == "image/package-cache" && f.Resource.File == "/var/cache/apt/archives"
	})
	if c >= 0 && evidenceOf(&fs[c], "bytes") != "4096" {
		t.Errorf("apt archive size %q, want 4096", evidenceOf(&fs[c], "bytes"))
	}
	// The inventory still ran in the same walk.
	if !slices.ContainsFunc(res.Inventory.Packages, func(p inventory.Package) bool { return p.Name == "curl" }) {
		t.Errorf("curl not inventoried: %+v", res.Inventory.Packages)
	}
}

// testScanPartialLayer breaks the middle layer's stream: the scan goes on,
// is partial, names the layer once, and still reports what the other
// layers hold.
func testScanPartialLayer(t *testing.T, db *vulndb.DB) {
	var opens atomic.Int64
	img, err := image.FromV1(image.Source{Kind: image.KindOCILayout, Path: "test"}, countingImage{Image: configTestImage(t), opens: &opens, breakN: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Scan(t.Context(), img, "test", finding.Tool{Name: "palisade"}, scanOpts(db))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Report.Partial || res.Verdict.Pass {
		t.Fatalf("partial %v pass %v", res.Report.Partial, res.Verdict.Pass)
	}
	n := 0
	for _, e := range res.Report.Errors {
		if strings.Contains(e, "layer 1 "+img.Layers[1].Digest) && strings.Contains(e, "read layer: unexpected EOF in gzip stream") {
			n++
		}
	}
	if n != 1 {
		// Inventory and secrets saw the same broken layer; the report
		// names it once (the file being read is named apart).
		t.Errorf("layer 1 error reported %d times, want once: %q", n, res.Report.Errors)
	}
	if !slices.ContainsFunc(res.Report.Findings, func(f finding.Finding) bool { return f.Resource.File == "/usr/local/bin/helper" }) {
		t.Errorf("the readable upper layer's setuid file is not reported")
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
