package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/secrets"
)

// Synthetic image for the secrets benchmark: secretsLayers layers of
// secretsFilesPerLayer text files (config-like lines, some assignments to
// secret-like names, a few real-looking secrets), plus binaries.
const (
	secretsLayers        = 4
	secretsFilesPerLayer = 2_500
	secretsBinaries      = 20
)

// BenchmarkSecretsScan measures secrets.Scanner.ScanImage over an OCI
// layout against the floor of walking the same image and reading every
// byte (img.Walk with io.Copy to io.Discard), and reports the ratio
// scan/walk.
func BenchmarkSecretsScan(b *testing.B) {
	dir := buildSecretsLayout(b)
	src := image.Source{Kind: image.KindOCILayout, Path: dir}
	s := secrets.Scanner{Rules: secrets.Default()}
	var scanDur, walkDur time.Duration
	files, findings := 0, 0
	for b.Loop() {
		ctx := b.Context()
		img, err := image.Open(ctx, src, image.Options{})
		if err != nil {
			b.Fatal(err)
		}
		runWalk := func() {
			start := time.Now()
			n, err := listLayers(ctx, img)
			if err != nil {
				b.Fatal(err)
			}
			walkDur += time.Since(start)
			files = n
		}
		runScan := func() {
			start := time.Now()
			res, err := s.ScanImage(ctx, img)
			if err != nil {
				b.Fatal(err)
			}
			scanDur += time.Since(start)
			if res.Partial {
				b.Fatalf("partial scan: %v %v", res.LayerErrors, res.FileErrors)
			}
			findings = len(res.Findings)
		}
		// Alternate the order so neither side always runs warm.
		runWalk()
		runScan()
		runScan()
		runWalk()
	}
	b.ReportMetric(float64(scanDur)/float64(walkDur), "scan/walk")
	b.ReportMetric(float64(walkDur.Milliseconds())/float64(2*b.N), "walk-ms/run")
	b.ReportMetric(float64(scanDur.Milliseconds())/float64(2*b.N), "scan-ms/run")
	b.ReportMetric(float64(files), "entries")
	b.ReportMetric(float64(findings), "findings")
}

// buildSecretsLayout writes the synthetic image as an OCI layout.
func buildSecretsLayout(b *testing.B) string {
	b.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	var layers [][]byte
	for l := range secretsLayers {
		tl := newTarLayer(b)
		add := func(name string, data []byte) { tl.add(name, 0o644, data) }
		for i := range secretsFilesPerLayer {
			add(fmt.Sprintf("srv/l%d/d%02d/f%04d.conf", l, i/100, i), secretsText(rng, 200+rng.IntN(8000), i%100 == 0))
		}
		for i := range secretsBinaries {
			bin := secretsText(rng, 64<<10, true)
			copy(bin, "\x7fELF\x02\x01\x01\x00")
			add(fmt.Sprintf("usr/bin/tool%d-%d", l, i), bin)
		}
		if l == secretsLayers-1 {
			add("srv/l0/d00/.wh.f0000.conf", nil) // a deleted file that held a secret
		}
		layers = append(layers, tl.close())
	}
	return writeLayout(b, layers)
}

// secretsText returns about n bytes of config-like text: comment and
// prose lines, key = value lines (some with secret-like names and
// harmless values), and, when withSecret, one high-entropy password.
func secretsText(rng *rand.Rand, n int, withSecret bool) []byte {
	words := []string{"server", "listen", "timeout", "passthrough", "tokenizer", "cache", "secret_name", "path", "retry", "the", "of", "and", "upstream", "compass", "worker"}
	var sb strings.Builder
	for sb.Len() < n {
		switch rng.IntN(10) {
		case 0:
			fmt.Fprintf(&sb, "%s = %d\n", words[rng.IntN(len(words))], rng.IntN(10000))
		case 1:
			sb.WriteString("password = \"${DB_PASSWORD}\"\n")
		default:
			sb.WriteString("# ")
			for range 6 + rng.IntN(8) {
				sb.WriteString(words[rng.IntN(len(words))])
				sb.WriteByte(' ')
			}
			sb.WriteByte('\n')
		}
	}
	if withSecret {
		const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		pw := make([]byte, 20)
		for i := range pw {
			pw[i] = alnum[rng.IntN(len(alnum))]
		}
		fmt.Fprintf(&sb, "admin_password = \"%s\"\n", pw)
	}
	return []byte(sb.String())
}
