package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/palisade-sec/palisade/internal/image/imagetest"
	"github.com/palisade-sec/palisade/internal/kubelab"
	"github.com/palisade-sec/palisade/internal/sbom"
	"github.com/palisade-sec/palisade/internal/sbom/sbomtest"
	"github.com/palisade-sec/palisade/internal/sharedtest"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

// TestImageSBOM runs palisade image sbom on a registry image with dpkg,
// apk and npm packages: the document is valid CycloneDX 1.6, names the
// image by digest, lists every package with its layer, and is the same
// bytes on a second run (the test clock is fixed).
func TestImageSBOM(t *testing.T) {
	img := imagetest.Image(t, v1.Config{User: "10001"},
		imagetest.Step{CreatedBy: "ADD rootfs.tar /", Layer: imagetest.Layer(t, fstest.MapFS{
			"etc/os-release":       {Data: []byte("ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")},
			"var/lib/dpkg/status":  {Data: []byte("Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n\n")},
			"lib/apk/db/installed": {Data: []byte("P:busybox\nV:1.36.1-r2\nA:x86_64\no:busybox\n\n")},
		})},
		imagetest.Step{CreatedBy: "COPY app /app", Layer: imagetest.Layer(t, fstest.MapFS{
			"app/node_modules/express/package.json": {Data: []byte(`{"name":"express","version":"4.18.2"}`)},
		})},
	)
	ref := imagetest.Push(t, imagetest.Registry(t)+"/shop/api:2.0", img)
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}

	code, out, errOut := run(t, "image", "sbom", "--insecure-registry", ref)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var doc sbom.BOM
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	mc := doc.Metadata.Component
	if mc.Type != "container" || mc.Version != digest.String() || !strings.HasPrefix(mc.PURL, "pkg:oci/api@"+digest.String()+"?") {
		t.Errorf("image component = %+v, want container pkg:oci/api@%s", mc, digest)
	}
	if doc.Metadata.Timestamp != "2026-11-25T12:00:00Z" || len(doc.Metadata.Tools.Components) != 1 || doc.Metadata.Tools.Components[0].Name != "palisade" {
		t.Errorf("metadata = %+v", doc.Metadata)
	}
	var purls []string
	for _, c := range doc.Components {
		purls = append(purls, c.PURL)
		if c.Type == "library" && !slices.ContainsFunc(c.Properties, func(p sbom.Property) bool {
			return p.Name == "palisade:layer:digest" && strings.HasPrefix(p.Value, "sha256:")
		}) {
			t.Errorf("%s has no layer digest property", c.PURL)
		}
	}
	for _, want := range []string{"pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1", "pkg:apk/", "pkg:npm/express@4.18.2"} {
		if !slices.ContainsFunc(purls, func(p string) bool { return strings.HasPrefix(p, want) }) {
			t.Errorf("no component with purl %s…; have %v", want, purls)
		}
	}
	if len(doc.Vulnerabilities) != 0 {
		t.Errorf("image sbom lists %d vulnerabilities; it matches no advisories", len(doc.Vulnerabilities))
	}
	// -o before the subcommand reaches the command's own --output too.
	if code, again, errOut := run(t, "-o", "cyclonedx", "image", "sbom", "--insecure-registry", ref); code != ExitOK || again != out {
		t.Errorf("a second run (exit %d, %s) gives other bytes", code, errOut)
	}

	// An unpacked root filesystem has no digest, so no pkg:oci purl.
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "app", "node_modules", "ms"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "app", "node_modules", "ms", "package.json"), []byte(`{"name":"ms","version":"2.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, dirOut, errOut := run(t, "image", "sbom", "dir:"+root)
	var dirDoc sbom.BOM
	if err := json.Unmarshal([]byte(dirOut), &dirDoc); code != ExitOK || err != nil {
		t.Fatalf("dir: exit %d, %v\n%s", code, err, errOut)
	}
	if mc := dirDoc.Metadata.Component; mc.PURL != "" || mc.BOMRef == "" || len(dirDoc.Components) != 1 || dirDoc.Components[0].PURL != "pkg:npm/ms@2.0.0" {
		t.Errorf("dir: component %+v, components %+v", mc, dirDoc.Components)
	}

	for _, tt := range []struct {
		name string
		args []string
	}{
		{"other output format", []string{"image", "sbom", "--insecure-registry", "-o", "json", ref}},
		{"bad reference", []string{"image", "sbom", "oci:"}},
		{"missing layout", []string{"image", "sbom", "oci:" + filepath.Join(t.TempDir(), "nope")}},
		{"bad platform", []string{"image", "sbom", "--platform", "linux/amd64/v8/extra", ref}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, out, errOut := run(t, tt.args...); code != ExitUsage || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and no document", code, out, errOut)
			}
		})
	}
	// Validated after the other checks: without the schema installed,
	// Validate skips.
	sbomtest.Validate(t, []byte(out))
	sbomtest.Validate(t, []byte(dirOut))
}

// TestImageScanCycloneDX scans the lab's shop/legacy sample image (Debian
// 12 with 2019 openssl and curl) against the real Debian advisories with
// -o cyclonedx: stdout is a valid CycloneDX document whose
// vulnerabilities are the scan's, with fixed versions; the verdict goes
// to stderr and the exit code is the scan's.
func TestImageScanCycloneDX(t *testing.T) {
	bundle := filepath.Join("..", "..", "..", "shared", "vulndb", "Debian-all.zip")
	if _, err := os.Stat(bundle); err != nil {
		sharedtest.Missing(t, "real advisory bundles not found: %v", err)
	}
	dbPath := filepath.Join(t.TempDir(), "osv.db")
	if _, err := vulndb.Import(t.Context(), dbPath, []string{bundle}, vulndb.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	reg, err := kubelab.StartRegistry("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Stop() })
	samples, err := reg.PushSamples(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(samples, func(s kubelab.SampleImage) bool { return strings.HasSuffix(s.Ref, "/shop/legacy:1.0") })
	if i < 0 {
		t.Fatalf("no shop/legacy sample in %+v", samples)
	}
	ref := samples[i].Ref

	code, out, errOut := run(t, "image", "scan", "--db", dbPath, "--insecure-registry", "-o", "cyclonedx", ref)
	if code != ExitViolation {
		t.Fatalf("exit %d, want 1 (the legacy image fails the default policy)\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "FAIL") {
		t.Errorf("the verdict is not on stderr: %q", errOut)
	}
	var doc sbom.BOM
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	for _, c := range doc.Components {
		refs[c.BOMRef] = true
	}
	fixed := 0
	for _, v := range doc.Vulnerabilities {
		for _, a := range v.Affects {
			if !refs[a.Ref] {
				t.Errorf("%s affects %s, which is no component", v.ID, a.Ref)
			}
			if slices.ContainsFunc(a.Versions, func(av sbom.AffectVersion) bool { return av.Status == "unaffected" }) {
				fixed++
			}
		}
	}
	if len(doc.Vulnerabilities) == 0 || fixed == 0 {
		t.Fatalf("%d vulnerabilities, %d with a fixed version; 2019 openssl and curl have many fixed ones", len(doc.Vulnerabilities), fixed)
	}

	// The same scan as JSON names the same vulnerabilities.
	_, jsonOut, _ := run(t, "image", "scan", "--db", dbPath, "--insecure-registry", "-o", "json", ref)
	var rep struct {
		Findings []struct{ RuleID, Category string }
	}
	if err := json.Unmarshal([]byte(jsonOut), &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Category == vulndb.Category {
			want[f.RuleID] = true
		}
	}
	if len(want) != len(doc.Vulnerabilities) {
		t.Errorf("JSON report has %d vulnerability IDs, CycloneDX %d", len(want), len(doc.Vulnerabilities))
	}

	code, _, errOut = run(t, "image", "scan", "--db", dbPath, "-o", "spdx", ref)
	if code != ExitUsage || !strings.Contains(errOut, "cyclonedx") {
		t.Errorf("unknown format: exit %d, stderr %q; want 2 naming cyclonedx among the formats", code, errOut)
	}
	_, help, _ := run(t, "image", "scan", "--help")
	i = strings.Index(help, "--output")
	if line, _, _ := strings.Cut(help[max(i, 0):], "\n"); i < 0 || !strings.Contains(line, "sarif") || !strings.Contains(line, "cyclonedx") {
		t.Errorf("image scan --help does not list cyclonedx:\n%s", help)
	}
	// Last: without the schema installed, Validate skips.
	sbomtest.Validate(t, []byte(out))
}
