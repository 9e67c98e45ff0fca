package vulndb

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
)

var update = flag.Bool("update", false, "rewrite golden files")

// syntheticDocs are advisories written from the published facts of
// well-known advisories (IDs, aliases, affected ranges as GitHub and osv.dev
// publish them) for ecosystems whose bundles are too large to ship here,
// plus hand-made documents for event kinds the real data lacks. Marked
// "synthetic" in database_specific.
var syntheticDocs = map[string]string{
	// GHSA-jfh8-c2jc-5v3q (Log4Shell): two introduced/fixed pairs.
	"GHSA-jfh8-c2jc-5v3q.json": `{"id":"GHSA-jfh8-c2jc-5v3q","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2021-44228"],
"summary":"Remote code injection in Log4j","database_specific":{"severity":"CRITICAL","synthetic":true},
"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
"affected":[{"package":{"ecosystem":"Maven","name":"org.apache.logging.log4j:log4j-core"},
"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.13.0"},{"fixed":"2.15.0"}]},{"type":"ECOSYSTEM","events":[{"introduced":"2.0-beta9"},{"fixed":"2.12.2"}]}]}],
"references":[{"type":"ADVISORY","url":"https://nvd.nist.gov/vuln/detail/CVE-2021-44228"}]}`,
	// GHSA-35jh-r3h4-6jhm: lodash command injection, fixed in 4.17.21.
	"GHSA-35jh-r3h4-6jhm.json": `{"id":"GHSA-35jh-r3h4-6jhm","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2021-23337"],
"summary":"Command Injection in lodash","database_specific":{"severity":"HIGH","synthetic":true},
"affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}]}`,
	// A second source for the same CVE, scored with CVSS v4.0: merged.
	"OSV-TEST-1.json": `{"id":"OSV-TEST-1","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2021-23337"],"database_specific":{"synthetic":true},
"severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],
"affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"4.0.0"},{"fixed":"4.17.21"}]}]}]}`,
	// last_affected, limit, a versions list and a withdrawn advisory.
	"TEST-LAST.json":  `{"id":"TEST-LAST","aliases":["CVE-2099-1"],"affected":[{"package":{"ecosystem":"npm","name":"pkg"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"last_affected":"1.4.2"}]}]}]}`,
	"TEST-LIMIT.json": `{"id":"TEST-LIMIT","affected":[{"package":{"ecosystem":"npm","name":"pkg"},"ranges":[{"type":"SEMVER","events":[{"introduced":"2.0.0"},{"limit":"3.0.0"}]}]}]}`,
	"TEST-LIST.json":  `{"id":"TEST-LIST","affected":[{"package":{"ecosystem":"PyPI","name":"listed"},"versions":["1.0","1.1.post1"]}]}`,
	"TEST-GONE.json":  `{"id":"TEST-GONE","withdrawn":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"pkg"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`,
}

func syntheticDB(t *testing.T) *DB {
	t.Helper()
	dir := t.TempDir()
	b := writeBundle(t, dir, "synthetic.zip", syntheticDocs)
	path := filepath.Join(dir, "osv.db")
	res, err := Import(t.Context(), path, []string{b}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bundles[0].Withdrawn != 1 {
		t.Errorf("withdrawn = %d, want 1", res.Bundles[0].Withdrawn)
	}
	d, err := Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestMatchRanges(t *testing.T) {
	d := syntheticDB(t)
	tests := []struct {
		name  string
		q     Query
		want  string // preferred ID, "" for no match
		fixed string
	}{
		{"maven first range", Query{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1"}, "CVE-2021-44228", "2.15.0"},
		{"maven second range", Query{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.12.1"}, "CVE-2021-44228", "2.12.2"},
		{"maven between ranges", Query{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.12.2"}, "", ""},
		{"maven before introduced", Query{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.0-beta8"}, "", ""},
		{"maven beta9 introduced", Query{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.0-beta9"}, "CVE-2021-44228", "2.12.2"},
		{"maven rc before fix", Query{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.15.0-rc1"}, "CVE-2021-44228", "2.15.0"},
		{"maven fixed", Query{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.15.0"}, "", ""},
		{"npm semver", Query{Ecosystem: "npm", Name: "lodash", Version: "4.17.20"}, "CVE-2021-23337", "4.17.21"},
		{"npm fixed", Query{Ecosystem: "npm", Name: "lodash", Version: "4.17.21"}, "", ""},
		{"npm prerelease of fix is affected", Query{Ecosystem: "npm", Name: "lodash", Version: "4.17.21-beta.1"}, "CVE-2021-23337", "4.17.21"},
		{"last_affected inclusive", Query{Ecosystem: "npm", Name: "pkg", Version: "1.4.2"}, "CVE-2099-1", ""},
		{"after last_affected", Query{Ecosystem: "npm", Name: "pkg", Version: "1.4.3"}, "", ""},
		{"below limit", Query{Ecosystem: "npm", Name: "pkg", Version: "2.9.9"}, "TEST-LIMIT", ""},
		{"at limit", Query{Ecosystem: "npm", Name: "pkg", Version: "3.0.0"}, "", ""},
		{"versions list, normalised", Query{Ecosystem: "PyPI", Name: "Listed", Version: "1.0.0"}, "TEST-LIST", ""},
		{"versions list, post release", Query{Ecosystem: "PyPI", Name: "listed", Version: "1.1-1"}, "TEST-LIST", ""},
		{"versions list, not listed", Query{Ecosystem: "PyPI", Name: "listed", Version: "1.1"}, "", ""},
		{"invalid version: only lists", Query{Ecosystem: "npm", Name: "lodash", Version: "not-a-version"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := matchOne(t, d, tt.q)
			if tt.want == "" {
				if len(ms) != 0 {
					t.Fatalf("matched %s, want nothing", ms[0].ID)
				}
				return
			}
			if len(ms) != 1 {
				t.Fatalf("%d matches, want 1 (%s)", len(ms), tt.want)
			}
			if ms[0].ID != tt.want || ms[0].FixedVersion != tt.fixed {
				t.Errorf("got %s fixed %q, want %s fixed %q", ms[0].ID, ms[0].FixedVersion, tt.want, tt.fixed)
			}
		})
	}
}

// TestMatchMergeAndSeverity: GHSA-35jh-r3h4-6jhm and OSV-TEST-1 share
// CVE-2021-23337 and become one match; the CVSS v4.0 vector (8.7) beats the
// database's HIGH rating.
func TestMatchMergeAndSeverity(t *testing.T) {
	d := syntheticDB(t)
	ms := matchOne(t, d, Query{Ecosystem: "npm", Name: "lodash", Version: "4.17.20", PURL: "pkg:npm/lodash@4.17.20"})
	if len(ms) != 1 {
		t.Fatalf("%d matches, want 1 merged", len(ms))
	}
	m := ms[0]
	if diff := cmp.Diff([]string{"CVE-2021-23337", "GHSA-35jh-r3h4-6jhm", "OSV-TEST-1"}, m.IDs); diff != "" {
		t.Errorf("IDs (-want +got):\n%s", diff)
	}
	if m.Score != 8.7 || m.Severity != finding.SeverityHigh {
		t.Errorf("score %v severity %v, want 8.7 high", m.Score, m.Severity)
	}
	// Log4Shell: the CVSS v3.1 vector scores 10.0, critical.
	l := matchOne(t, d, Query{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1"})
	if len(l) != 1 || l[0].Score != 10 || l[0].Severity != finding.SeverityCritical {
		t.Errorf("log4shell = %+v", l)
	}
}

// TestFindingsGolden pins the findings of a scan-like match set.
func TestFindingsGolden(t *testing.T) {
	d := syntheticDB(t)
	ms, err := d.Match(t.Context(), []Query{
		{Ecosystem: "npm", Name: "lodash", Version: "4.17.20", PURL: "pkg:npm/lodash@4.17.20"},
		{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1"},
		{Ecosystem: "npm", Name: "pkg", Version: "1.2.0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	fs := Findings(ms, finding.Resource{Image: "registry.example/app:1", ImageDigest: "sha256:0123"})
	finding.Normalize(fs)
	got, err := json.MarshalIndent(fs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "findings.golden")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)+"\n"); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestOSEcosystem(t *testing.T) {
	tests := []struct{ id, version, want string }{
		{"debian", "12", "Debian:12"},
		{"debian", "12.5", "Debian:12"},
		{`"debian"`, `"11"`, "Debian:11"},
		{"debian", "", ""},
		{"alpine", "3.11.6", "Alpine:v3.11"},
		{"alpine", "3.19.1", "Alpine:v3.19"},
		{"alpine", "3", ""},
		{"ubuntu", "22.04", "Ubuntu:22.04:LTS"},
		{"ubuntu", "23.10", "Ubuntu:23.10"},
		{"ubuntu", "23.04", "Ubuntu:23.04"},
		{"rocky", "9.3", "Rocky Linux:9"},
		{"almalinux", "8.9", "AlmaLinux:8"},
		{"wolfi", "20230201", "Wolfi"},
		{"arch", "", ""},
	}
	for _, tt := range tests {
		got, ok := OSEcosystem(tt.id, tt.version)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("OSEcosystem(%s, %s) = %q, %v; want %q", tt.id, tt.version, got, ok, tt.want)
		}
	}
}

func TestGoToolchainVersion(t *testing.T) {
	tests := map[string]string{
		"go1.21.3": "1.21.3", "go1.21": "1.21.0", "go1.21rc2": "1.21.0-rc.2", "go1.20beta1": "1.20.0-beta.1",
		"go1.22.0 X:boringcrypto": "1.22.0", "go1.26.8": "1.26.8",
		"devel go1.22-abcdef": "", "1.21.3": "", "go": "", "go1": "", "go1.x": "",
	}
	for in, want := range tests {
		got, ok := GoToolchainVersion(in)
		if got != want || ok != (want != "") {
			t.Errorf("GoToolchainVersion(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if qs := GoToolchainQueries("go1.21.3"); len(qs) != 2 || qs[0].Name != "stdlib" || qs[1].Name != "toolchain" || qs[0].Version != "1.21.3" {
		t.Errorf("GoToolchainQueries = %+v", qs)
	}
}

func TestPreferredID(t *testing.T) {
	for want, ids := range map[string][]string{
		"CVE-2021-1":  {"GO-2021-1", "GHSA-x", "CVE-2021-2", "CVE-2021-1"},
		"GHSA-x":      {"PYSEC-1", "GHSA-x"},
		"DEBIAN-ABC1": {"DEBIAN-ABC1", "DSA-1"},
	} {
		if got := PreferredID(ids); got != want {
			t.Errorf("PreferredID(%v) = %s, want %s", ids, got, want)
		}
	}
}

// TestGoldenFiles fails on golden files no test reads.
func TestGoldenFiles(t *testing.T) {
	known := map[string]bool{"findings.golden": true}
	files, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !known[filepath.Base(f)] {
			t.Errorf("orphaned golden file %s", f)
		}
	}
}
