package checks_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/checks"
	"github.com/palisade-sec/palisade/internal/posture/imagevulns"
)

// The digests of the fixture scans.
const (
	fixtureAPIDigest   = "sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	fixtureBatchDigest = "sha256:d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4"
)

// fixtureImages are the image scans fixtures are judged with (fixtureOptions):
// registry.example.com/vulngraph/* only, so no other check's fixture sees
// them. api has a network-exploitable critical vulnerability, batch a local
// high and a network medium one, clean a low one. The CLI test
// (internal/cli/posture_images_test.go) builds its index from a real scan.
var fixtureImages = func() *imagevulns.Index {
	x := imagevulns.New()
	for _, s := range []*posture.ImageScan{
		posture.NewImageScan("registry.example.com/vulngraph/api:1.0", fixtureAPIDigest, "", false, []posture.ImageVuln{
			{ID: "CVE-2024-1001", Package: "openssl", Version: "3.0.11-1", FixedVersion: "3.0.14-1", Severity: finding.SeverityCritical, Network: true},
			{ID: "CVE-2024-1002", Package: "bash", Version: "5.2-1", Severity: finding.SeverityHigh},
			{ID: "CVE-2024-1003", Package: "curl", Version: "7.88.1-10", Severity: finding.SeverityMedium, Network: true},
			{ID: "CVE-2024-1004", Package: "tar", Version: "1.34", Severity: finding.SeverityLow},
		}),
		posture.NewImageScan("registry.example.com/vulngraph/batch:2.0", fixtureBatchDigest, "", false, []posture.ImageVuln{
			{ID: "CVE-2024-2001", Package: "zlib1g", Version: "1.2.13", FixedVersion: "1.3", Severity: finding.SeverityMedium, Network: true},
			{ID: "CVE-2024-2002", Package: "sudo", Version: "1.9.13", FixedVersion: "1.9.15", Severity: finding.SeverityHigh},
		}),
		posture.NewImageScan("registry.example.com/vulngraph/clean:1.0", "sha256:e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5", "", false, []posture.ImageVuln{
			{ID: "CVE-2024-3001", Package: "tar", Version: "1.34", Severity: finding.SeverityLow, Network: true},
		}),
	} {
		if err := x.Add(s); err != nil {
			panic(err) // the literal above is wrong
		}
	}
	return x
}()

func vulngraphScan(t *testing.T, file, check string, pin posture.Version, opts posture.Options) []finding.Finding {
	t.Helper()
	inv, err := kube.Load(t.Context(), []string{file}, nil, kube.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := posture.NewRegistry(checks.All(), pin)
	if err != nil {
		t.Fatal(err)
	}
	out, err := posture.NewScanner(reg.Only(check), nil).Scan(t.Context(), inv, opts)
	if err != nil {
		t.Fatal(err)
	}
	return out.Findings
}

func vulngraphEvidence(f finding.Finding, name string) string {
	for _, e := range f.Evidence {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// TestVulngraphVersions: the two checks exist from behaviour version 6
// only, report nothing without image data, and internet-exposed-workload
// is raised by a vulnerable image from 6 on, and not at 5.
func TestVulngraphVersions(t *testing.T) {
	withImages := posture.Options{Images: fixtureImages}
	for _, id := range []string{"vulnerable-image", "exposed-vulnerable-workload"} {
		reg, err := posture.NewRegistry(checks.All(), 5)
		if err != nil {
			t.Fatal(err)
		}
		if reg.Check(id) != nil {
			t.Errorf("%s is in a registry pinned to version 5", id)
		}
		files, _ := filepath.Glob(filepath.Join("testdata", dirName(id), "fail", "*.yaml"))
		for _, f := range files {
			if got := vulngraphScan(t, f, id, posture.Latest, posture.Options{}); len(got) != 0 {
				t.Errorf("%s without image data: %d findings, want none", f, len(got))
			}
			if got := vulngraphScan(t, f, id, 6, withImages); len(got) == 0 {
				t.Errorf("%s pinned to 6: no finding", f)
			}
		}
	}
	f := "testdata/internet_exposed_workload/fail/vulnerable_image.yaml"
	for _, tc := range []struct {
		pin  posture.Version
		opts posture.Options
		want finding.Severity
	}{
		{posture.Latest, withImages, finding.SeverityCritical},
		{6, withImages, finding.SeverityCritical},
		{6, posture.Options{}, finding.SeverityMedium},
		{5, withImages, finding.SeverityMedium},
	} {
		got := vulngraphScan(t, f, "internet-exposed-workload", tc.pin, tc.opts)
		if len(got) != 1 || got[0].Severity != tc.want {
			t.Errorf("pin %d, images %v: %v, want one %s finding", tc.pin, tc.opts.Images != nil, got, tc.want)
			continue
		}
		if vuln := vulngraphEvidence(got[0], "vulnerability"); (tc.want == finding.SeverityCritical) != (vuln == "CVE-2024-1001") {
			t.Errorf("pin %d: vulnerability evidence %q", tc.pin, vuln)
		}
	}
}

// TestVulnerableImageMatch checks how each container's scan was found, as
// the evidence says it.
func TestVulnerableImageMatch(t *testing.T) {
	type match struct{ sev, by, digest, running, worst string }
	for _, tc := range []struct {
		file string
		want map[string]match // by container
	}{
		{"deployment_tag.yaml", map[string]match{
			"api":     {"critical", "tag", fixtureAPIDigest, "", "CVE-2024-1001 (critical, openssl, fixed in 3.0.14-1), CVE-2024-1002 (high, bash), CVE-2024-1003 (medium, curl)"},
			"migrate": {"high", "tag", fixtureBatchDigest, "", "CVE-2024-2002 (high, sudo, fixed in 1.9.15), CVE-2024-2001 (medium, zlib1g, fixed in 1.3)"},
		}},
		{"pod_image_id.yaml", map[string]match{
			"web":   {"critical", "digest", fixtureAPIDigest, "", "CVE-2024-1001 (critical, openssl, fixed in 3.0.14-1), CVE-2024-1002 (high, bash), CVE-2024-1003 (medium, curl)"},
			"proxy": {"high", "tag", fixtureBatchDigest, "sha256:c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3", "CVE-2024-2002 (high, sudo, fixed in 1.9.15), CVE-2024-2001 (medium, zlib1g, fixed in 1.3)"},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			fs := vulngraphScan(t, filepath.Join("testdata/vulnerable_image/fail", tc.file), "vulnerable-image", posture.Latest, fixtureOptions)
			if len(fs) != len(tc.want) {
				t.Fatalf("%d findings, want %d", len(fs), len(tc.want))
			}
			for _, f := range fs {
				got := match{f.Severity.String(), vulngraphEvidence(f, "matchedBy"), vulngraphEvidence(f, "digest"), vulngraphEvidence(f, "runningDigest"), vulngraphEvidence(f, "worst")}
				if want := tc.want[f.Resource.Container]; got != want {
					t.Errorf("container %s: %+v, want %+v", f.Resource.Container, got, want)
				}
				if got.running != "" && !strings.Contains(f.Message, "the tag has moved") {
					t.Errorf("container %s: message does not say the tag moved: %s", f.Resource.Container, f.Message)
				}
			}
		})
	}
}
