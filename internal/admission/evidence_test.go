package admission

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// trustEngine is an engine with only the image trust policy, verifying
// with v.
func trustEngine(v *Verifier) *Engine {
	return &Engine{Rules: []Rule{{Policy: &ImageTrust{Registries: config.Registries{Trusted: []string{"127.0.0.1:*/shop/*"}}, Verifier: v}, Mode: Enforce}}}
}

// TestScanRecords checks uploaded scan records as a source of trust,
// through the engine, with a real SQLite store.
func TestScanRecords(t *testing.T) {
	l := newLab(t)
	now := time.Now().UTC().Truncate(time.Second)
	digestOf := func(image string) string {
		d, err := l.Registry.Resolve(t.Context(), image)
		if err != nil {
			t.Fatal(err)
		}
		return d.DigestStr()
	}
	bare, good := digestOf(l.Bare), digestOf(l.Good)
	rec := func(digest string, passed bool, at time.Time) store.ScanRecord {
		return store.ScanRecord{ImageDigest: digest, ImageRef: "shop", ScannedAt: at, PolicyDigest: "sha256:p1", Passed: passed,
			Summary: store.SeverityCounts{Critical: 2, High: 1}}
	}
	tests := []struct {
		name     string
		image    string
		records  []store.ScanRecord
		keys     bool // attestations count too
		edit     func(*Verifier)
		wantDeny string // "" admits
	}{
		{name: "passing record", image: l.Bare, records: []store.ScanRecord{rec(bare, true, now)}},
		{name: "failing record", image: l.Bare, records: []store.ScanRecord{rec(bare, false, now)}, wantDeny: "(uploaded scan record) failed the baseline: 2 critical, 1 high open"},
		{name: "latest record decides", image: l.Bare, records: []store.ScanRecord{rec(bare, true, now.Add(-time.Hour)), rec(bare, false, now)}, wantDeny: "failed the baseline"},
		{name: "stale record", image: l.Bare, records: []store.ScanRecord{rec(bare, true, now.Add(-48*time.Hour))},
			edit: func(v *Verifier) { v.MaxScanAge = 24 * time.Hour }, wantDeny: "older than the allowed 24h0m0s"},
		{name: "stale advisory database", image: l.Bare, records: []store.ScanRecord{func() store.ScanRecord {
			r := rec(bare, true, now)
			r.AdvisoryDBTime = now.Add(-10 * 24 * time.Hour)
			return r
		}()}, edit: func(v *Verifier) { v.MaxDBAge = 7 * 24 * time.Hour }, wantDeny: "advisory database from"},
		{name: "policy digest not accepted", image: l.Bare, records: []store.ScanRecord{rec(bare, true, now)},
			edit: func(v *Verifier) { v.PolicyDigests = []string{"sha256:p2"} }, wantDeny: "baseline this cluster does not accept"},
		{name: "policy digest accepted", image: l.Bare, records: []store.ScanRecord{rec(bare, true, now)},
			edit: func(v *Verifier) { v.PolicyDigests = []string{"sha256:p2", "sha256:p1"} }},
		{name: "no record", image: l.Bare, wantDeny: "it has no uploaded scan record"},
		{name: "newer failing record beats passing attestation", image: l.Good, keys: true, records: []store.ScanRecord{rec(good, false, now.Add(time.Minute))}, wantDeny: "failed the baseline"},
		{name: "older failing record loses to passing attestation", image: l.Good, keys: true, records: []store.ScanRecord{rec(good, false, now.Add(-time.Hour))}},
		{name: "both sources missing", image: l.Bare, keys: true, wantDeny: "no scan attestation signed by a trusted key and no uploaded scan record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			for _, r := range tt.records {
				if err := st.PutScan(t.Context(), r); err != nil {
					t.Fatal(err)
				}
			}
			var keys []*attest.PublicKey
			if tt.keys {
				keys = []*attest.PublicKey{l.Key.Public()}
			}
			v, err := NewVerifier(l.Registry, keys, 16)
			if err != nil {
				t.Fatal(err)
			}
			v.Records = st
			if tt.edit != nil {
				tt.edit(v)
			}
			resp := trustEngine(v).Review(t.Context(), podReview(t, "shop", pod(tt.image)))
			if tt.wantDeny == "" {
				if !resp.Allowed {
					t.Fatalf("denied: %s", resp.Result.Message)
				}
				return
			}
			if resp.Allowed || !strings.Contains(resp.Result.Message, tt.wantDeny) {
				t.Fatalf("allowed=%v %+v, want denial containing %q", resp.Allowed, resp.Result, tt.wantDeny)
			}
		})
	}
}

// TestIndexDigest checks that for a multi-arch image an attestation of the
// index or of the configured platform's manifest is accepted, and one of
// another platform is not.
func TestIndexDigest(t *testing.T) {
	l := newLab(t)
	tests := []struct {
		name     string
		attestOn string // index, amd64, arm64
		platform string
		allowed  bool
	}{
		{"index attested", "index", "", true},
		{"default platform attested", "amd64", "", true},
		{"other platform attested", "arm64", "", false},
		{"configured platform attested", "arm64", "linux/arm64", true},
		{"index attested, other platform configured", "index", "linux/arm64", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := l.PushIndex(t, "shop/multi"+string(rune('a'+i))+":1.0")
			target := m.Index
			switch tt.attestOn {
			case "amd64":
				target = m.AMD64
			case "arm64":
				target = m.ARM64
			}
			l.Attest(t, target, "pass", time.Now())
			v, err := NewVerifier(l.Registry, []*attest.PublicKey{l.Key.Public()}, 16)
			if err != nil {
				t.Fatal(err)
			}
			v.Platform = tt.platform
			resp := trustEngine(v).Review(t.Context(), podReview(t, "shop", pod(m.Tag)))
			if resp.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, tt.allowed, resp.Result)
			}
			if !tt.allowed && !strings.Contains(resp.Result.Message, "no scan attestation") {
				t.Errorf("denial %q does not say the scan is missing", resp.Result.Message)
			}
		})
	}
}

// TestPlatformDigestPinnedWithTag checks "repo:tag@sha256:P" where P is one
// platform's manifest of the multi-arch index the tag names: a scan of the
// index counts for P (CI attests the index; `crane digest --platform` pins
// P), while P without its tag, or with a tag whose index lacks P, needs a
// scan of its own.
func TestPlatformDigestPinnedWithTag(t *testing.T) {
	l := newLab(t)
	m := l.PushIndex(t, "shop/pinned:1.0")
	l.Attest(t, m.Index, "pass", time.Now())
	other := l.PushIndex(t, "shop/pinned:2.0") // an index without m's manifests
	_, arm, _ := strings.Cut(m.ARM64.String(), "@")
	_, amd, _ := strings.Cut(m.AMD64.String(), "@")
	tests := []struct {
		name    string
		image   string
		allowed bool
	}{
		{"tag and its index's amd64 manifest", m.Tag + "@" + amd, true},
		{"tag and its index's arm64 manifest", m.Tag + "@" + arm, true},
		{"the manifest without its tag", m.ARM64.String(), false},
		{"a tag whose index lacks the manifest", strings.TrimSuffix(other.Tag, ":2.0") + ":2.0@" + arm, false},
		{"the index itself", m.Index.String(), true},
	}
	v, err := NewVerifier(l.Registry, []*attest.PublicKey{l.Key.Public()}, 16)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := trustEngine(v).Review(t.Context(), podReview(t, "shop", pod(tt.image)))
			if resp.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, tt.allowed, resp.Result)
			}
		})
	}
	// The index's own entry keeps its configured platform: a tag lookup
	// after the pinned ones still resolves to amd64.
	r, err := v.resolve(t.Context(), m.Tag)
	if err != nil {
		t.Fatal(err)
	}
	if r.Platform != m.AMD64.String() {
		t.Errorf("index entry's platform = %s, want %s", r.Platform, m.AMD64)
	}
}
