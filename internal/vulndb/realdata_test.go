package vulndb

import (
	"slices"
	"testing"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/vulndb/version"
)

// find returns the match whose IDs contain id.
func find(ms []Match, id string) *Match {
	for i := range ms {
		if slices.Contains(ms[i].IDs, id) {
			return &ms[i]
		}
	}
	return nil
}

func matchOne(t *testing.T, d *DB, q Query) []Match {
	t.Helper()
	ms, err := d.Match(t.Context(), []Query{q})
	if err != nil {
		t.Fatalf("Match(%+v): %v", q, err)
	}
	return ms
}

// TestRealGoXText is the acceptance example: golang.org/x/text
// v0.3.7 has GO-2022-1059 / CVE-2022-32149, fixed in 0.3.8, and no advisory
// whose fix is at or below v0.3.7 matches.
func TestRealGoXText(t *testing.T) {
	d := openRealDB(t)
	ms := matchOne(t, d, Query{Ecosystem: "Go", Name: "golang.org/x/text", Version: "v0.3.7", PURL: "pkg:golang/golang.org/x/text@v0.3.7"})
	m := find(ms, "GO-2022-1059")
	if m == nil {
		t.Fatalf("GO-2022-1059 not matched; got %d matches", len(ms))
	}
	if m.ID != "CVE-2022-32149" || !slices.Contains(m.IDs, "GHSA-69ch-w2m2-3vjp") {
		t.Errorf("ID = %s, IDs = %v; want CVE-2022-32149 preferred, GO and GHSA aliases kept", m.ID, m.IDs)
	}
	if m.FixedVersion != "0.3.8" {
		t.Errorf("FixedVersion = %q, want 0.3.8", m.FixedVersion)
	}
	sv := version.SemVer()
	for _, m := range ms {
		if m.FixedVersion == "" {
			continue
		}
		if c, _ := sv.Compare(m.FixedVersion, "0.3.7"); c <= 0 {
			t.Errorf("%s matched v0.3.7 but is fixed in %s", m.ID, m.FixedVersion)
		}
	}
	// GO-2021-0113 (CVE-2021-38561) is fixed in 0.3.7: it affects 0.3.6 only.
	if find(ms, "GO-2021-0113") != nil {
		t.Error("GO-2021-0113, fixed in 0.3.7, matched v0.3.7")
	}
	if find(matchOne(t, d, Query{Ecosystem: "Go", Name: "golang.org/x/text", Version: "v0.3.6"}), "GO-2021-0113") == nil {
		t.Error("GO-2021-0113 did not match v0.3.6")
	}
	if find(matchOne(t, d, Query{Ecosystem: "Go", Name: "golang.org/x/text", Version: "v0.3.8"}), "GO-2022-1059") != nil {
		t.Error("GO-2022-1059 matched the fixed version v0.3.8")
	}
	// One finding per vulnerability: no two matches share an ID.
	seen := map[string]bool{}
	for _, m := range ms {
		for _, id := range m.IDs {
			if seen[id] {
				t.Errorf("ID %s appears in two matches", id)
			}
			seen[id] = true
		}
	}
}

func TestRealGoStdlib(t *testing.T) {
	d := openRealDB(t)
	ms, err := d.Match(t.Context(), GoToolchainQueries("go1.21.3"))
	if err != nil {
		t.Fatal(err)
	}
	// GO-2023-2185 (CVE-2023-45283, path/filepath on Windows) is fixed in 1.21.4.
	m := find(ms, "GO-2023-2185")
	if m == nil {
		t.Fatalf("GO-2023-2185 not matched for go1.21.3 (%d matches)", len(ms))
	}
	if m.FixedVersion != "1.21.4" {
		t.Errorf("FixedVersion = %q, want 1.21.4", m.FixedVersion)
	}
	// Its second affected entry says the fix was incomplete: 1.21.4 is
	// affected again, fixed in 1.21.5.
	ms, err = d.Match(t.Context(), GoToolchainQueries("go1.21.4"))
	if err != nil {
		t.Fatal(err)
	}
	if m := find(ms, "GO-2023-2185"); m == nil || m.FixedVersion != "1.21.5" {
		t.Errorf("go1.21.4: GO-2023-2185 = %+v, want matched, fixed in 1.21.5", m)
	}
	ms, err = d.Match(t.Context(), GoToolchainQueries("go1.21.5"))
	if err != nil {
		t.Fatal(err)
	}
	if find(ms, "GO-2023-2185") != nil {
		t.Error("GO-2023-2185 matched go1.21.5")
	}
}

func TestRealWithdrawn(t *testing.T) {
	d := openRealDB(t)
	// GO-2022-0617 (k8s.io/kubernetes, introduced 0, never fixed) was withdrawn.
	if find(matchOne(t, d, Query{Ecosystem: "Go", Name: "k8s.io/kubernetes", Version: "v1.20.0"}), "GO-2022-0617") != nil {
		t.Error("withdrawn GO-2022-0617 matched")
	}
}

func TestRealDebian(t *testing.T) {
	d := openRealDB(t)
	tests := []struct {
		name    string
		q       Query
		id      string // CVE expected (want) or not
		want    bool
		fixedIn string
	}{
		{"libssl3 from source openssl, before fix", Query{Ecosystem: "Debian:12", Name: "libssl3", SourceName: "openssl", Version: "3.0.8-1"}, "CVE-2023-2650", true, "3.0.9-1"},
		{"libssl3 at the fix", Query{Ecosystem: "Debian:12", Name: "libssl3", SourceName: "openssl", Version: "3.0.9-1"}, "CVE-2023-2650", false, ""},
		{"binary name alone does not match", Query{Ecosystem: "Debian:12", Name: "libssl3", Version: "3.0.8-1"}, "CVE-2023-2650", false, ""},
		{"other release does not match", Query{Ecosystem: "Debian:11", Name: "libssl3", SourceName: "openssl", Version: "3.0.8-1"}, "CVE-2023-2650", false, ""},
		{"glibc security update before", Query{Ecosystem: "Debian:12", Name: "libc6", SourceName: "glibc", Version: "2.36-9+deb12u4"}, "CVE-2024-33599", true, "2.36-9+deb12u7"},
		{"glibc security update at fix", Query{Ecosystem: "Debian:12", Name: "libc6", SourceName: "glibc", Version: "2.36-9+deb12u7"}, "CVE-2024-33599", false, ""},
		{"zlib epoch", Query{Ecosystem: "Debian:12", Name: "zlib1g", SourceName: "zlib", Version: "1:1.2.11.dfsg-4"}, "CVE-2022-37434", true, "1:1.2.11.dfsg-4.1"},
		{"zlib epoch at fix", Query{Ecosystem: "Debian:12", Name: "zlib1g", SourceName: "zlib", Version: "1:1.2.13.dfsg-1"}, "CVE-2022-37434", false, ""},
		{"systemd tilde backport before", Query{Ecosystem: "Debian:12", Name: "libsystemd0", SourceName: "systemd", Version: "252.22-1~deb12u1"}, "CVE-2023-50387", true, "252.23-1~deb12u1"},
		{"systemd tilde backport at fix", Query{Ecosystem: "Debian:12", Name: "libsystemd0", SourceName: "systemd", Version: "252.23-1~deb12u1"}, "CVE-2023-50387", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := find(matchOne(t, d, tt.q), tt.id)
			if (m != nil) != tt.want {
				t.Fatalf("%s matched = %v, want %v", tt.id, m != nil, tt.want)
			}
			if m != nil {
				if m.ID != tt.id || !slices.Contains(m.IDs, "DEBIAN-"+tt.id) {
					t.Errorf("ID = %s, IDs = %v", m.ID, m.IDs)
				}
				if m.FixedVersion != tt.fixedIn {
					t.Errorf("FixedVersion = %q, want %q", m.FixedVersion, tt.fixedIn)
				}
			}
		})
	}
}

func TestRealAlpine(t *testing.T) {
	d := openRealDB(t)
	eco, ok := OSEcosystem("alpine", "3.11.6")
	if !ok || eco != "Alpine:v3.11" {
		t.Fatalf("OSEcosystem(alpine, 3.11.6) = %q", eco)
	}
	tests := []struct {
		name    string
		q       Query
		id      string
		want    bool
		fixedIn string
	}{
		{"openssl before -r3", Query{Ecosystem: eco, Name: "libcrypto1.1", SourceName: "openssl", Version: "1.1.1d-r2"}, "CVE-2019-1551", true, "1.1.1d-r3"},
		{"openssl at -r3", Query{Ecosystem: eco, Name: "libcrypto1.1", SourceName: "openssl", Version: "1.1.1d-r3"}, "CVE-2019-1551", false, ""},
		{"openssl later letter", Query{Ecosystem: eco, Name: "openssl", Version: "1.1.1g-r0"}, "CVE-2019-1551", false, ""},
		{"musl before", Query{Ecosystem: eco, Name: "musl", Version: "1.1.23-r1"}, "CVE-2019-14697", true, "1.1.23-r2"},
		{"musl at fix", Query{Ecosystem: eco, Name: "musl", Version: "1.1.23-r2"}, "CVE-2019-14697", false, ""},
		{"release v3.12 has no data", Query{Ecosystem: "Alpine:v3.12", Name: "musl", Version: "1.1.23-r1"}, "CVE-2019-14697", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := find(matchOne(t, d, tt.q), tt.id)
			if (m != nil) != tt.want {
				t.Fatalf("%s matched = %v, want %v", tt.id, m != nil, tt.want)
			}
			if m != nil && m.FixedVersion != tt.fixedIn {
				t.Errorf("FixedVersion = %q, want %q", m.FixedVersion, tt.fixedIn)
			}
		})
	}
}

func TestRealPyPI(t *testing.T) {
	d := openRealDB(t)
	// PYSEC-2012-5 / CVE-2012-2374: tornado < 2.2.1 (ECOSYSTEM range and a versions list).
	m := find(matchOne(t, d, Query{Ecosystem: "PyPI", Name: "Tornado", Version: "2.2"}), "PYSEC-2012-5")
	if m == nil {
		t.Fatal("PYSEC-2012-5 not matched for tornado 2.2 (name normalised)")
	}
	if m.ID != "CVE-2012-2374" || m.FixedVersion != "2.2.1" {
		t.Errorf("ID %s fixed %q, want CVE-2012-2374 fixed 2.2.1", m.ID, m.FixedVersion)
	}
	if find(matchOne(t, d, Query{Ecosystem: "PyPI", Name: "tornado", Version: "2.2.1"}), "PYSEC-2012-5") != nil {
		t.Error("PYSEC-2012-5 matched the fixed 2.2.1")
	}
	f := m.Finding(finding.Resource{Image: "example:1"})
	if f.Category != Category || f.RuleID != "CVE-2012-2374" || f.Remediation != "upgrade Tornado to 2.2.1" {
		t.Errorf("finding = %+v", f)
	}
}

// TestRealSeverity checks CVSS scoring on real PyPI data that carries
// CVSS_V3 vectors.
func TestRealSeverity(t *testing.T) {
	d := openRealDB(t)
	ms := matchOne(t, d, Query{Ecosystem: "PyPI", Name: "apache-atlas", Version: "0.8"})
	tests := []struct {
		id     string
		score  float64
		rating finding.Severity
	}{
		{"PYSEC-2017-105", 7.5, finding.SeverityHigh},   // CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N
		{"PYSEC-2017-106", 6.1, finding.SeverityMedium}, // CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N
	}
	for _, tt := range tests {
		m := find(ms, tt.id)
		if m == nil {
			t.Errorf("%s not matched", tt.id)
			continue
		}
		if m.Score != tt.score || m.Severity != tt.rating || m.Vector == "" {
			t.Errorf("%s: score %v severity %v vector %q, want %v %v", tt.id, m.Score, m.Severity, m.Vector, tt.score, tt.rating)
		}
	}
}
