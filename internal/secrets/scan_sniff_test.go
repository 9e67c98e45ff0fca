package secrets

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/image/imagetest"
)

// TestScanImageSniffsLargeBinaries: files over the sniff size whose head
// is binary are skipped unread, unless a file rule names them (a key store
// is reported whatever its content); a large text file and a file whose
// binary part starts after the head are still scanned in full.
func TestScanImageSniffsLargeBinaries(t *testing.T) {
	bin := append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{0}, 3*sniffSize)...)
	bin = append(bin, []byte("\ntoken="+tokGitHub+"\n")...)
	textThenBinary := strings.Repeat("plain text line\n", sniffSize/8) + "GITHUB_TOKEN=" + tokGitHub + "\n\x00\x00"
	files := fstest.MapFS{
		"usr/lib/libbig.so":  {Data: bin, Mode: 0o644},
		"app/keystore.p12":   {Data: bin, Mode: 0o600},
		"app/notes.txt":      {Data: []byte(textThenBinary), Mode: 0o644},
		"usr/share/big.json": {Data: []byte(strings.Repeat(`{"k":"v"}`+"\n", 2*sniffSize)), Mode: 0o644},
	}
	// More sniffed files than the pipeline has buffers: a buffer lost or
	// returned twice would hang or fail the walk.
	for i := range 3 * pipelineDepth {
		files[fmt.Sprintf("usr/lib/lib%02d.so", i)] = &fstest.MapFile{Data: bin, Mode: 0o644}
	}
	v1img := imagetest.Image(t, v1.Config{}, imagetest.Step{CreatedBy: "COPY . /", Layer: imagetest.Layer(t, files)})
	img, err := image.FromV1(image.Source{Kind: image.KindRegistry, Ref: "registry.test/acme/app:1.0"}, v1img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&Scanner{}).ScanImage(t.Context(), img)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range res.Findings {
		got[f.RuleID+" "+f.Resource.File] = true
	}
	for _, want := range []string{"secret/file/keystore /app/keystore.p12", "secret/github-token /app/notes.txt"} {
		if !got[want] {
			t.Errorf("missing %s; got %v", want, got)
		}
	}
	if got["secret/github-token /usr/lib/libbig.so"] {
		t.Errorf("binary file judged by content")
	}
	if res.SkippedBinary != 2+3*pipelineDepth || res.FilesScanned != 2 {
		t.Errorf("skipped binary %d scanned %d, want %d and 2", res.SkippedBinary, res.FilesScanned, 2+3*pipelineDepth)
	}
}
