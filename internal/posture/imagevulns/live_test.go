package imagevulns_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture/imagevulns"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// TestLiveRefresh checks the index serve keeps over its store (real
// SQLite): scans uploaded later are found after a Refresh, a rescan of an
// image replaces its older one, and a report that cannot be read is named
// while the others stay indexed.
func TestLiveRefresh(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "store.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ref := "registry.example.com/shop/api:1.0"
	put := func(digest string, at time.Time, rep []byte) {
		t.Helper()
		if err := st.PutScan(t.Context(), store.ScanRecord{ImageDigest: digest, ImageRef: ref, ScannedAt: at, AdvisoryDBTime: at, Report: rep}); err != nil {
			t.Fatal(err)
		}
	}
	live := &imagevulns.Live{Store: st}
	if err := live.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok := live.Lookup(ref, ""); ok {
		t.Fatal("an empty store matched an image")
	}

	put(platform, at, report(t, ref, at, vuln("CVE-2024-0001", "openssl", finding.SeverityCritical, "3.0.14-1", netVector, platform, ref)))
	if err := live.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	m, ok := live.Lookup("registry.example.com/shop/api@"+platform, "")
	if !ok || m.Scan.Counts.Critical != 1 {
		t.Fatalf("after the upload: %+v, %v", m, ok)
	}

	// A rescan with the vulnerability fixed replaces the older scan; a
	// broken upload of another image is named but blinds nothing.
	later := at.Add(24 * time.Hour)
	put(platform, later, report(t, ref, later))
	put(other, later, []byte(`{"truncated":`))
	err = live.Refresh(t.Context())
	if err == nil || !strings.Contains(err.Error(), other) {
		t.Errorf("Refresh error %v, want one naming %s", err, other)
	}
	m, ok = live.Lookup("registry.example.com/shop/api@"+platform, "")
	if !ok || m.Scan.Counts.Critical != 0 {
		t.Errorf("after the rescan: %+v, %v", m, ok)
	}
	// Nothing new: nothing is read again, the bad upload included.
	if err := live.Refresh(t.Context()); err != nil {
		t.Errorf("a refresh with nothing new: %v", err)
	}
}
