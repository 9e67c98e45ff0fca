package sbom_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/image/imagetest"
	"github.com/palisade-sec/palisade/internal/inventory"
	"github.com/palisade-sec/palisade/internal/inventory/list"
	"github.com/palisade-sec/palisade/internal/sbom"
	"github.com/palisade-sec/palisade/internal/sbom/sbomtest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.cdx.json (and remove orphaned ones)")

// fixedTime is the document time of every golden file.
var fixedTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var tool = finding.Tool{Name: "palisade", Version: "1.2.3"}

const debianOSRelease = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n"

const dpkgStatus = `Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit

Package: curl
Status: install ok installed
Architecture: amd64
Version: 7.88.1-10+deb12u4
Description: command line tool for transferring data with URL syntax

`

// debianNPM is a Debian 12 image with two dpkg packages in its base layer
// and an application layer of npm packages, one installed twice.
func debianNPM(t *testing.T) v1.Image {
	return imagetest.Image(t, v1.Config{User: "10001"},
		imagetest.Step{CreatedBy: "ADD rootfs.tar /", Layer: imagetest.Layer(t, fstest.MapFS{
			"etc/os-release":      {Data: []byte(debianOSRelease)},
			"var/lib/dpkg/status": {Data: []byte(dpkgStatus)},
		})},
		imagetest.Step{CreatedBy: "ENV NODE_ENV=production"},
		imagetest.Step{CreatedBy: "COPY app /app", Layer: imagetest.Layer(t, fstest.MapFS{
			"app/node_modules/lodash/package.json":                          {Data: []byte(`{"name":"lodash","version":"4.17.20"}`)},
			"app/node_modules/@babel/core/package.json":                     {Data: []byte(`{"name":"@babel/core","version":"7.22.0"}`)},
			"app/node_modules/@babel/core/node_modules/semver/package.json": {Data: []byte(`{"name":"semver","version":"6.3.0"}`)},
			"app/node_modules/semver/package.json":                          {Data: []byte(`{"name":"semver","version":"6.3.0"}`)},
		})},
	)
}

// alpine is an Alpine 3.18 image with two apk packages.
func alpine(t *testing.T) v1.Image {
	return imagetest.Image(t, v1.Config{},
		imagetest.Step{CreatedBy: "ADD alpine-minirootfs.tar.gz /", Layer: imagetest.Layer(t, fstest.MapFS{
			"etc/os-release":       {Data: []byte("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME=\"Alpine Linux v3.18\"\n")},
			"lib/apk/db/installed": {Data: []byte("P:musl\nV:1.2.4-r1\nA:x86_64\no:musl\n\nP:libcrypto3\nV:3.1.3-r0\nA:x86_64\no:openssl\n\n")},
		})},
	)
}

// scanFindings are what a scan of debianNPM could report: a fixable
// vulnerability with a CVSS 3.1 vector and aliases in two packages of one
// source, one with no fix, one accepted by an exception, and a secret,
// which is no vulnerability and stays out of the document.
func scanFindings(digest string) []finding.Finding {
	res := finding.Resource{Image: "registry.example/shop/web:1.0", ImageDigest: digest}
	vuln := func(id, pkg, version, purl, file string, sev finding.Severity, extra ...finding.Evidence) finding.Finding {
		r := res
		r.File = file
		return finding.Finding{
			RuleID: id, Title: id + " in " + pkg, Severity: sev, Category: "vulnerability", Resource: r,
			Evidence: append([]finding.Evidence{
				{Name: "ecosystem", Value: "Debian:12", Key: true}, {Name: "package", Value: pkg, Key: true},
				{Name: "version", Value: version, Key: true}, {Name: "purl", Value: purl},
			}, extra...),
			References: []string{"https://osv.dev/vulnerability/" + id},
		}
	}
	sslPURL := "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
	fixed := []finding.Evidence{
		{Name: "aliases", Value: "CVE-2023-5678, DSA-5585-1"},
		{Name: "cvssScore", Value: "5.3"}, {Name: "cvssVector", Value: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"},
		{Name: "fixedVersion", Value: "3.0.13-1~deb12u1"},
	}
	fs := []finding.Finding{
		vuln("DEBIAN-CVE-2023-5678", "libssl3", "3.0.11-1~deb12u2", sslPURL, "var/lib/dpkg/status", finding.SeverityMedium, fixed...),
		vuln("GHSA-c2qf-rxjj-qqgw", "semver", "6.3.0", "pkg:npm/semver@6.3.0", "app/node_modules/semver/package.json", finding.SeverityHigh,
			finding.Evidence{Name: "fixedVersion", Value: "6.3.1"}, finding.Evidence{Name: "aliases", Value: "CVE-2022-25883"}),
		vuln("GHSA-c2qf-rxjj-qqgw", "semver", "6.3.0", "pkg:npm/semver@6.3.0", "app/node_modules/@babel/core/node_modules/semver/package.json", finding.SeverityHigh,
			finding.Evidence{Name: "fixedVersion", Value: "6.3.1"}, finding.Evidence{Name: "aliases", Value: "CVE-2022-25883"}),
		vuln("DEBIAN-CVE-2024-2398", "curl", "7.88.1-10+deb12u4", "pkg:deb/debian/curl@7.88.1-10+deb12u4?arch=amd64&distro=debian-12", "var/lib/dpkg/status", finding.SeverityUnknown),
		{
			RuleID: "secret/aws-access-key", Title: "AWS access key", Severity: finding.SeverityCritical, Category: "secret",
			Resource: finding.Resource{Image: res.Image, ImageDigest: digest, File: "app/.env"},
		},
	}
	fs[0].Remediation = "upgrade libssl3 (source package openssl) to 3.0.13-1~deb12u1"
	fs[1].Remediation, fs[2].Remediation = "upgrade semver to 6.3.1", "upgrade semver to 6.3.1"
	lodash := vuln("GHSA-35jh-r3h4-6jhm", "lodash", "4.17.20", "pkg:npm/lodash@4.17.20", "app/node_modules/lodash/package.json", finding.SeverityHigh,
		finding.Evidence{Name: "cvssScore", Value: "7.2"}, finding.Evidence{Name: "cvssVector", Value: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"})
	lodash.Status = finding.StatusExcepted
	lodash.Exception = &finding.ExceptionRef{ID: "EX-7", Owner: "team-web", Reason: "template input is never user-controlled", Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)}
	fs = append(fs, lodash)
	finding.Normalize(fs)
	return fs
}

type goldenCase struct {
	name  string
	image func(*testing.T) v1.Image
	ref   string
	scan  bool
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{name: "debian-npm", image: debianNPM, ref: "registry.example/shop/web:1.0"},
		{name: "debian-npm-scan", image: debianNPM, ref: "registry.example/shop/web:1.0", scan: true},
		{name: "alpine", image: alpine, ref: "oci:/images/alpine:3.18"},
	}
}

func goldenPath(name string) string { return filepath.Join("testdata", name+".cdx.json") }

// build opens img as ref says, inventories it with the default extractors
// and renders the document.
func build(t *testing.T, img v1.Image, ref string, findings func(digest string) []finding.Finding) []byte {
	t.Helper()
	src, err := image.ParseSource(ref)
	if err != nil {
		t.Fatal(err)
	}
	im, err := image.FromV1(src, img)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Scan(t.Context(), im, list.Default(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := sbom.Input{Image: im, Reference: ref, Inventory: inv}
	if findings != nil {
		in.Findings = findings(im.Metadata.Digest)
	}
	var buf bytes.Buffer
	if err := sbom.Write(&buf, sbom.Build(in, sbom.Options{Tool: tool, Time: fixedTime})); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	expected := map[string]bool{}
	for _, tc := range goldenCases() {
		path := goldenPath(tc.name)
		expected[path] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var fn func(string) []finding.Finding
			if tc.scan {
				fn = scanFindings
			}
			got := build(t, tc.image(t), tc.ref, fn)
			compareGolden(t, path, got)
			// Last: without the schema installed this skips.
			sbomtest.Validate(t, got)
		})
	}
	found, err := filepath.Glob(filepath.Join("testdata", "*.cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range found {
		if expected[path] {
			continue
		}
		if *update {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("orphaned golden file %s: no test case writes it (delete it or run go test ./internal/sbom -update)", path)
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("golden file %s is missing (run go test ./internal/sbom -update)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got); run go test ./internal/sbom -update if the change is intended:\n%s", path, d)
	}
}

// TestDeterministic builds the same document twice from separately built
// images: the bytes match, and another time gives another serial number.
func TestDeterministic(t *testing.T) {
	a := build(t, debianNPM(t), "registry.example/shop/web:1.0", scanFindings)
	b := build(t, debianNPM(t), "registry.example/shop/web:1.0", scanFindings)
	if !bytes.Equal(a, b) {
		t.Fatalf("two builds differ:\n%s", cmp.Diff(string(a), string(b)))
	}
	im, err := image.FromV1(image.Source{Kind: image.KindRegistry, Ref: "registry.example/shop/web:1.0"}, debianNPM(t))
	if err != nil {
		t.Fatal(err)
	}
	serial := func(at time.Time, findings []finding.Finding) string {
		return sbom.Build(sbom.Input{Image: im, Findings: findings}, sbom.Options{Tool: tool, Time: at}).SerialNumber
	}
	s1, s2, s3 := serial(fixedTime, nil), serial(fixedTime.Add(time.Second), nil), serial(fixedTime, []finding.Finding{})
	if s1 == s2 || s1 == s3 {
		t.Errorf("serial numbers collide: %s %s %s", s1, s2, s3)
	}
	if s1 != serial(fixedTime, nil) {
		t.Errorf("serial number is not stable")
	}
}

// TestBOMRefs checks what the golden files only show: every bom-ref is
// unique, every dependency and affects ref names a component, and a
// package installed twice is two components.
func TestBOMRefs(t *testing.T) {
	var doc sbom.BOM
	if err := json.Unmarshal(build(t, debianNPM(t), "registry.example/shop/web:1.0", scanFindings), &doc); err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{doc.Metadata.Component.BOMRef: true}
	semver := 0
	for _, c := range doc.Components {
		if refs[c.BOMRef] {
			t.Errorf("bom-ref %q is used twice", c.BOMRef)
		}
		refs[c.BOMRef] = true
		if c.PURL == "pkg:npm/semver@6.3.0" {
			semver++
		}
	}
	if semver != 2 {
		t.Errorf("semver 6.3.0 is installed twice but appears %d times", semver)
	}
	for _, d := range doc.Dependencies {
		for _, r := range append([]string{d.Ref}, d.DependsOn...) {
			if !refs[r] {
				t.Errorf("dependency names unknown bom-ref %q", r)
			}
		}
	}
	for _, v := range doc.Vulnerabilities {
		for _, a := range v.Affects {
			if !refs[a.Ref] {
				t.Errorf("%s affects unknown bom-ref %q", v.ID, a.Ref)
			}
		}
		if v.ID == "GHSA-c2qf-rxjj-qqgw" && len(v.Affects) != 2 {
			t.Errorf("%s affects %d components, want both semver copies", v.ID, len(v.Affects))
		}
	}
	if i := slices.IndexFunc(doc.Vulnerabilities, func(v sbom.Vulnerability) bool { return v.ID == "secret/aws-access-key" }); i >= 0 {
		t.Errorf("a secret finding became a vulnerability")
	}
}
