package imagevulns_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/imagevulns"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
	"github.com/palisade-sec/palisade/internal/vulndb"
)

const (
	platform = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	index    = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	other    = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	tagged   = "sha256:4444444444444444444444444444444444444444444444444444444444444444"
)

// vuln is the finding the image scanner writes for one match (vulndb's own
// Finding, so the evidence names are the scanner's).
func vuln(id, pkg string, sev finding.Severity, fixed, vector, digest, target string) finding.Finding {
	m := vulndb.Match{
		Query: vulndb.Query{Ecosystem: "Debian:12", Name: pkg, Version: "1.0-1", PURL: "pkg:deb/debian/" + pkg + "@1.0-1"},
		ID:    id, IDs: []string{id}, Severity: sev, FixedVersion: fixed, Vector: vector, Score: 9.8,
	}
	return m.Finding(finding.Resource{Image: target, ImageDigest: digest})
}

// report writes the JSON document of an image scan of target, as
// `palisade image scan -o json` does.
func report(t testing.TB, target string, at time.Time, fs ...finding.Finding) []byte {
	t.Helper()
	rep := finding.NewReport(finding.Tool{Name: "palisade", Version: "test"}, target, at, fs)
	var b bytes.Buffer
	if err := finding.Write(&b, finding.FormatJSON, rep, finding.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const netVector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"

func writeReports(t *testing.T, reports map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range reports {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLookup(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	dir := writeReports(t, map[string][]byte{
		// A multi-arch index scanned by digest: the target names the
		// index, the findings the platform image.
		"multiarch.json": report(t, "registry.example.com/shop/api@"+index, at,
			vuln("CVE-2024-0001", "openssl", finding.SeverityCritical, "3.0.14-1", netVector, platform, "registry.example.com/shop/api@"+index)),
		// A Docker Hub short name scanned by tag.
		"sub/nginx.json": report(t, "nginx:1.2", at,
			vuln("CVE-2024-0002", "zlib", finding.SeverityHigh, "", "", tagged, "nginx:1.2")),
		"README.md": []byte("not a report, not *.json: skipped"),
	})
	x, err := imagevulns.LoadFiles(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if x.Len() != 2 {
		t.Fatalf("Len = %d, want 2", x.Len())
	}
	type want struct {
		ok                 bool
		ref, by, digest    string
		running            string
		firstID            string
		firstNetworkAttack bool
	}
	api := want{ok: true, ref: "registry.example.com/shop/api@" + index, by: posture.MatchDigest, firstID: "CVE-2024-0001", firstNetworkAttack: true}
	ngx := want{ok: true, ref: "nginx:1.2", by: posture.MatchTag, digest: tagged, firstID: "CVE-2024-0002"}
	with := func(w want, f func(*want)) want { f(&w); return w }
	for _, tc := range []struct {
		name, image, imageID string
		want                 want
	}{
		{"index digest in the image", "registry.example.com/shop/api@" + index, "", with(api, func(w *want) { w.digest = index })},
		{"platform digest in the image", "registry.example.com/shop/api@" + platform, "", with(api, func(w *want) { w.digest = platform })},
		{"platform digest, other repository", "mirror.example.com/api@" + platform, "", with(api, func(w *want) { w.digest = platform })},
		{"tag with docker-pullable imageID", "registry.example.com/shop/api:2.0", "docker-pullable://registry.example.com/shop/api@" + platform, with(api, func(w *want) { w.digest = platform })},
		{"tag with containerd imageID", "registry.example.com/shop/api:2.0", "registry.example.com/shop/api@" + index, with(api, func(w *want) { w.digest = index })},
		{"bare config digest imageID", "registry.example.com/shop/api:2.0", other, want{}},
		{"docker config imageID", "registry.example.com/shop/api:2.0", "docker://" + other, want{}},
		{"unscanned digest", "registry.example.com/shop/api@" + other, "", want{}},
		{"short name", "nginx:1.2", "", ngx},
		{"docker.io name", "docker.io/library/nginx:1.2", "", ngx},
		{"index.docker.io name", "index.docker.io/library/nginx:1.2", "", ngx},
		{"other tag", "nginx:1.3", "", want{}},
		{"no tag is latest", "nginx", "", want{}},
		{"pinned to an unscanned digest", "nginx:1.2@" + other, "", want{}},
		{"tag moved", "nginx:1.2", "docker-pullable://nginx@" + other, with(ngx, func(w *want) { w.running = other })},
		{"tag still at the scanned digest", "nginx:1.2", "nginx@" + tagged, with(ngx, func(w *want) { w.by = posture.MatchDigest })},
		{"config imageID says nothing of the tag", "nginx:1.2", "sha256:" + strings.Repeat("5", 64), ngx},
		{"malformed image", "NGINX::1.2", "", want{}},
		{"empty", "", "", want{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := x.Lookup(tc.image, tc.imageID)
			got := want{ok: ok}
			if ok {
				got = want{ok: true, ref: m.Scan.Ref, by: m.MatchedBy, digest: m.Digest, running: m.Running, firstID: m.Scan.Vulns[0].ID, firstNetworkAttack: m.Scan.Vulns[0].Network}
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("Lookup(%q, %q) (-want +got):\n%s", tc.image, tc.imageID, diff)
			}
		})
	}
}

func TestParseReport(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	target := "registry.example.com/shop/api:1.0"
	excepted := vuln("CVE-2024-0009", "bash", finding.SeverityCritical, "5.2-1", netVector, platform, target)
	excepted.Status = finding.StatusExcepted
	excepted.Exception = &finding.ExceptionRef{ID: "EXC-1", Owner: "o", Reason: "r"}
	secret := finding.Finding{RuleID: "secret/aws-access-key-id", Severity: finding.SeverityCritical, Category: "secret", Resource: finding.Resource{Image: target, ImageDigest: platform}}
	raw := report(t, target, at,
		vuln("CVE-2024-0003", "libc6", finding.SeverityMedium, "2.36-9", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", platform, target),
		vuln("CVE-2024-0001", "openssl", finding.SeverityCritical, "3.0.14-1", netVector, platform, target),
		vuln("CVE-2024-0002", "zlib", finding.SeverityHigh, "", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", platform, target),
		vuln("CVE-2024-0004", "curl", finding.SeverityHigh, "8.0", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MAV:L", platform, target),
		vuln("CVE-2024-0005", "tar", finding.SeverityLow, "", "", platform, target),
		excepted, secret,
	)
	s, err := imagevulns.ParseReport(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := posture.NewImageScan(target, platform, "", false, []posture.ImageVuln{
		{ID: "CVE-2024-0001", Package: "openssl", Version: "1.0-1", FixedVersion: "3.0.14-1", Severity: finding.SeverityCritical, Network: true},
		{ID: "CVE-2024-0002", Package: "zlib", Version: "1.0-1", Severity: finding.SeverityHigh, Network: true},
		// MAV:L, the modified attack vector, overrides AV:N.
		{ID: "CVE-2024-0004", Package: "curl", Version: "1.0-1", FixedVersion: "8.0", Severity: finding.SeverityHigh},
		{ID: "CVE-2024-0003", Package: "libc6", Version: "1.0-1", FixedVersion: "2.36-9", Severity: finding.SeverityMedium},
		{ID: "CVE-2024-0005", Package: "tar", Version: "1.0-1", Severity: finding.SeverityLow},
	})
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("ParseReport (-want +got):\n%s", diff)
	}
	if s.Counts.AtLeast(finding.SeverityMedium) != 4 || s.Fixable.AtLeast(finding.SeverityMedium) != 3 {
		t.Errorf("counts %+v fixable %+v", s.Counts, s.Fixable)
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	posture := `{"schemaVersion":"1.2","tool":{"name":"palisade","version":"x"},"generatedAt":"2026-11-01T00:00:00Z","target":"deploy/","partial":false,"summary":{"total":0,"open":0,"excepted":0,"openBySeverity":{}},"findings":[],"coverage":{"rules":[]},"exposedWorkloads":[]}`
	for _, tc := range []struct{ name, data, want string }{
		{"garbage.json", "hello", "not a JSON report"},
		{"array.json", "[]", "not a JSON report"},
		{"empty.json", "{}", "no schemaVersion"},
		{"v2.json", `{"schemaVersion":"2.0","target":"x","findings":[]}`, `schemaVersion "2.0"`},
		{"notarget.json", `{"schemaVersion":"1.2","findings":[]}`, "no target"},
		{"nofindings.json", `{"schemaVersion":"1.2","target":"nginx:1"}`, "no findings list"},
		{"posture.json", posture, "posture scan report"},
		{"trailing.json", string(report(t, "nginx:1", at)) + "{}", "data after the document"},
		{"oci.json", string(report(t, "oci:/tmp/layout", at)), "no digest and no registry reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeReports(t, map[string][]byte{tc.name: []byte(tc.data)})
			_, err := imagevulns.LoadFiles(t.Context(), dir)
			if err == nil || !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadFiles = %v, want an error naming %s and saying %q", err, tc.name, tc.want)
			}
		})
	}
	if _, err := imagevulns.LoadFiles(t.Context(), filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

// TestNewestWins checks that of two scans of the same tag the newest is
// kept, from files (generatedAt) and from store records (ScannedAt).
func TestNewestWins(t *testing.T) {
	old := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	newer := old.AddDate(0, 1, 0)
	oldRep := report(t, "nginx:1.2", old, vuln("CVE-2024-0001", "openssl", finding.SeverityCritical, "", netVector, other, "nginx:1.2"))
	newRep := report(t, "nginx:1.2", newer, vuln("CVE-2024-0002", "zlib", finding.SeverityMedium, "", "", tagged, "nginx:1.2"))
	dir := writeReports(t, map[string][]byte{"a-new.json": newRep, "b-old.json": oldRep})
	x, err := imagevulns.LoadFiles(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := x.Lookup("nginx:1.2", ""); !ok || m.Scan.Vulns[0].ID != "CVE-2024-0002" {
		t.Errorf("files: Lookup = %+v, %v; want the newer scan", m, ok)
	}
	recs := []store.ScanRecord{
		{ImageDigest: tagged, ImageRef: "nginx:1.2", ScannedAt: newer, Report: newRep},
		{ImageDigest: other, ImageRef: "nginx:1.2", ScannedAt: old, Report: oldRep},
	}
	x, err = imagevulns.FromScanRecords(recs)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := x.Lookup("nginx:1.2", ""); !ok || m.Scan.Vulns[0].ID != "CVE-2024-0002" {
		t.Errorf("records: Lookup = %+v, %v; want the newer scan", m, ok)
	}
	// The older scan's digest still finds the older scan.
	if m, ok := x.Lookup("nginx@"+other, ""); !ok || m.Scan.Vulns[0].ID != "CVE-2024-0001" {
		t.Errorf("records: Lookup by the old digest = %+v, %v", m, ok)
	}
	if _, err := imagevulns.FromScanRecords([]store.ScanRecord{{ImageDigest: tagged, ImageRef: "nginx:1.2", ScannedAt: newer}}); err == nil || !strings.Contains(err.Error(), "IncludeReport") {
		t.Errorf("record without report: %v", err)
	}
}

func TestNetworkVector(t *testing.T) {
	for _, tc := range []struct {
		vector string
		want   bool
	}{
		{netVector, true},
		{"CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", true},
		{"CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", false},
		{"CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MAV:N", true},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MAV:X", true},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", true},
		{"CVSS:4.0/AV:P/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", false},
		{"CVSS:3.1/AV:N", false}, // invalid: base metrics missing
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", false},
		{"", false},
	} {
		if got := imagevulns.NetworkVector(tc.vector); got != tc.want {
			t.Errorf("NetworkVector(%q) = %v, want %v", tc.vector, got, tc.want)
		}
	}
}

// FuzzParseReport feeds ParseReport arbitrary bytes: it must return a scan
// or an error, never panic, and a scan it returns must be indexable or
// refused with an error.
func FuzzParseReport(f *testing.F) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	f.Add(report(f, "registry.example.com/shop/api@"+index, at, vuln("CVE-2024-0001", "openssl", finding.SeverityCritical, "3.0.14-1", netVector, platform, "x")))
	f.Add(report(f, "nginx:1.2", at))
	f.Add([]byte(`{"schemaVersion":"1.2","target":"nginx","findings":[{"ruleId":"CVE-1","severity":"bogus"}]}`))
	f.Add([]byte(`{"schemaVersion":"1","target":"a@sha256:","findings":[{"category":"vulnerability","evidence":[{"name":"cvssVector","value":"CVSS:3.1/AV:N"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := imagevulns.ParseReport(bytes.NewReader(data))
		if err != nil {
			return
		}
		x := imagevulns.New()
		if err := x.Add(s); err != nil {
			return
		}
		x.Lookup(s.Ref, "")
		x.Lookup("nginx", "docker-pullable://"+s.Ref)
	})
}

// TestFromStore: scans stored by `palisade serve` (real SQLite) are indexed
// from ListScans with IncludeReport, and refused without the reports.
func TestFromStore(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "store.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ref := "registry.example.com/shop/api:1.0"
	rep := report(t, ref, at, vuln("CVE-2024-0001", "openssl", finding.SeverityCritical, "3.0.14-1", netVector, platform, ref))
	if err := st.PutScan(t.Context(), store.ScanRecord{ImageDigest: platform, ImageRef: ref, ScannedAt: at, AdvisoryDBTime: at, Report: rep}); err != nil {
		t.Fatal(err)
	}
	recs, err := st.ListScans(t.Context(), store.ScanFilter{IncludeReport: true})
	if err != nil {
		t.Fatal(err)
	}
	x, err := imagevulns.FromScanRecords(recs)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := x.Lookup("registry.example.com/shop/api:2.0", "registry.example.com/shop/api@"+platform)
	if !ok || m.MatchedBy != posture.MatchDigest || !m.Scan.Vulns[0].Network {
		t.Errorf("Lookup by imageID = %+v, %v", m, ok)
	}
	recs, err = st.ListScans(t.Context(), store.ScanFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := imagevulns.FromScanRecords(recs); err == nil {
		t.Error("records listed without reports were indexed")
	}
}
