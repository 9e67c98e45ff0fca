package imagescan

import (
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/inventory"
)

func TestDeniedPackages(t *testing.T) {
	t.Parallel()
	pkgs := []inventory.Package{
		{Ecosystem: "Debian:12", Name: "netcat-openbsd", Version: "1.219-1", PURL: "pkg:deb/debian/netcat-openbsd@1.219-1?distro=debian-12",
			Locations: []string{"/var/lib/dpkg/status"}, Layer: image.Layer{Index: 1, Digest: "sha256:aa", CreatedBy: "RUN apt-get install -y netcat-openbsd"}},
		{Ecosystem: "Debian:12", Name: "xz-utils", Version: "5.4.1-0.2", Locations: []string{"/var/lib/dpkg/status"}},
		{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1", Locations: []string{"/app/lib/log4j-core-2.14.1.jar"}},
		{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-api", Version: "2.14.1"},
		{Ecosystem: "npm", Name: "left-pad", Version: "not-a-version"},
	}
	denied := []config.DeniedPackage{
		{Name: "netcat-openbsd", Reason: "no network tools"},
		{Name: "xz-utils", Ecosystem: "Debian", Versions: []string{"5.6.0-0.1", "5.6.1-1"}, Reason: "backdoor"},
		{Name: "org.apache.logging.log4j:log4j-core", Ecosystem: "Maven", Versions: []string{">=2.0-beta9, <2.17.1"}, Reason: "Log4Shell"},
		{Name: "left-pad", Ecosystem: "npm", Versions: []string{"<2.0.0"}, Reason: "unpublished"},
	}
	res := finding.Resource{Image: "registry.example/shop/web:1", ImageDigest: "sha256:img"}
	fs, err := DeniedPackages(t.Context(), pkgs, denied, res)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		if f.RuleID != DeniedPackageRule || f.Category != PolicyCategory || f.Resource.ImageDigest != "sha256:img" {
			t.Errorf("finding %+v: wrong rule, category or resource", f)
		}
		got = append(got, f.Message)
	}
	want := []string{
		"denied package netcat-openbsd 1.219-1 (Debian:12): no network tools",
		"denied package org.apache.logging.log4j:log4j-core 2.14.1 (Maven): Log4Shell",
		"denied package left-pad not-a-version (npm): unpublished (its version could not be compared with <2.0.0, so it is denied to be safe",
	}
	if len(got) != len(want) {
		t.Fatalf("findings:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("finding %d = %q, want prefix %q", i, got[i], want[i])
		}
	}
	if f := fs[0]; f.Resource.File != "/var/lib/dpkg/status" || !hasEvidence(f, "instruction", "RUN apt-get install -y netcat-openbsd") || !hasEvidence(f, "deniedVersions", "any version") {
		t.Errorf("netcat finding lacks file, layer or rule evidence: %+v", f)
	}
	if !hasEvidence(fs[1], "deniedVersions", ">=2.0-beta9, <2.17.1") {
		t.Errorf("log4j finding evidence: %+v", fs[1].Evidence)
	}

	// Judged, each open one is a reason.
	r := finding.NewReport(finding.Tool{Name: "t"}, res.Image, day0, fs)
	p := config.Default().ImagePolicy
	if v := Judge(r, p, 0); v.Pass || len(v.Reasons) != 3 {
		t.Errorf("verdict = %+v, want 3 reasons", v)
	}

	if fs, err := DeniedPackages(t.Context(), pkgs, nil, res); err != nil || fs != nil {
		t.Errorf("no rules: %v, %v", fs, err)
	}
}

func hasEvidence(f finding.Finding, name, value string) bool {
	for _, e := range f.Evidence {
		if e.Name == name && e.Value == value {
			return true
		}
	}
	return false
}

func evidence(f *finding.Finding, name string) string {
	for _, e := range f.Evidence {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}
