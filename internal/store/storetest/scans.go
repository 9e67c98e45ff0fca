package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/store"
)

func mkScan(digest string, scannedAt time.Time, passed bool) store.ScanRecord {
	return store.ScanRecord{
		ImageDigest:    digest,
		ImageRef:       "registry.example/app@" + digest,
		ScannedAt:      scannedAt,
		PolicyDigest:   "sha256:policy",
		AdvisoryDBTime: scannedAt.Add(-time.Hour),
		Passed:         passed,
		Summary:        store.SeverityCounts{Critical: 1, High: 2, Medium: 3, Low: 4, Info: 5, Unknown: 6},
		Report:         []byte(fmt.Sprintf(`{"digest":%q,"at":%q}`, digest, scannedAt.Format(time.RFC3339Nano))),
	}
}

// scanKeys returns "digest@minute" for each record, for short diffs.
func scanKeys(rs []store.ScanRecord) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s@%d", r.ImageDigest, int(r.ScannedAt.Sub(base)/time.Minute)))
	}
	return out
}

func testScans(t *testing.T, open opener) {
	t.Run("PutAndLatest", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		old, newest, middle := mkScan("sha256:a", at(0), false), mkScan("sha256:a", at(20), true), mkScan("sha256:a", at(10), false)
		newest.AdvisoryDBTime = time.Time{} // unknown advisory data age
		for _, r := range []store.ScanRecord{old, newest, middle, mkScan("sha256:b", at(30), true)} {
			must(t, "PutScan", s.PutScan(ctx, r))
		}
		got, err := s.LatestScan(ctx, "sha256:a")
		must(t, "LatestScan", err)
		if diff := cmp.Diff(newest, got, diffOpts); diff != "" {
			t.Errorf("LatestScan (-want +got):\n%s", diff)
		}
		if !got.AdvisoryDBTime.IsZero() {
			t.Errorf("AdvisoryDBTime = %v, want the zero time", got.AdvisoryDBTime)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		must(t, "PutScan", s.PutScan(t.Context(), mkScan("sha256:a", at(0), true)))
		_, err := s.LatestScan(t.Context(), "sha256:missing")
		wantErr(t, "LatestScan", err, store.ErrNotFound)
	})

	t.Run("SameTimeReplaces", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		first, retry := mkScan("sha256:a", at(0), false), mkScan("sha256:a", at(0), true)
		retry.Report = []byte(`{"retry":true}`)
		must(t, "PutScan", s.PutScan(ctx, first))
		must(t, "PutScan retry", s.PutScan(ctx, retry))
		got, err := s.ListScans(ctx, store.ScanFilter{IncludeReport: true})
		must(t, "ListScans", err)
		if diff := cmp.Diff([]store.ScanRecord{retry}, got, diffOpts); diff != "" {
			t.Errorf("ListScans (-want +got):\n%s", diff)
		}
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		for _, r := range []store.ScanRecord{
			mkScan("sha256:a", at(0), true), mkScan("sha256:b", at(5), true),
			mkScan("sha256:a", at(10), false), mkScan("sha256:c", at(10), true),
		} {
			must(t, "PutScan", s.PutScan(ctx, r))
		}
		for _, tc := range []struct {
			name   string
			filter store.ScanFilter
			want   []string
		}{
			{"all, newest first", store.ScanFilter{}, []string{"sha256:a@10", "sha256:c@10", "sha256:b@5", "sha256:a@0"}},
			{"limit", store.ScanFilter{Limit: 2}, []string{"sha256:a@10", "sha256:c@10"}},
			{"one image", store.ScanFilter{ImageDigest: "sha256:a"}, []string{"sha256:a@10", "sha256:a@0"}},
			{"unknown image", store.ScanFilter{ImageDigest: "sha256:z"}, nil},
		} {
			got, err := s.ListScans(ctx, tc.filter)
			must(t, tc.name, err)
			if diff := cmp.Diff(tc.want, scanKeys(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, diff)
			}
			for _, r := range got {
				if r.Report != nil {
					t.Errorf("%s: Report of %s set without IncludeReport", tc.name, r.ImageDigest)
				}
			}
		}
		got, err := s.ListScans(ctx, store.ScanFilter{ImageDigest: "sha256:b", IncludeReport: true})
		must(t, "ListScans with reports", err)
		if diff := cmp.Diff([]store.ScanRecord{mkScan("sha256:b", at(5), true)}, got, diffOpts); diff != "" {
			t.Errorf("ListScans with reports (-want +got):\n%s", diff)
		}
	})

	t.Run("LargeReport", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		report := largeJSON(8 << 20)
		r := mkScan("sha256:big", at(0), true)
		r.Report = report
		must(t, "PutScan", s.PutScan(t.Context(), r))
		got, err := s.LatestScan(t.Context(), "sha256:big")
		must(t, "LatestScan", err)
		if !bytes.Equal(got.Report, report) {
			t.Errorf("report of %d bytes came back as %d different bytes", len(report), len(got.Report))
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		s := openStore(t, open)
		ctx := t.Context()
		noDigest, noTime, badRef := mkScan("", at(0), true), mkScan("sha256:a", time.Time{}, true), mkScan("sha256:a", at(0), true)
		badRef.ImageRef = "app\x00"
		for name, r := range map[string]store.ScanRecord{"no digest": noDigest, "no time": noTime, "NUL in ref": badRef} {
			wantErr(t, name, s.PutScan(ctx, r), store.ErrInvalid)
		}
		_, err := s.LatestScan(ctx, "")
		wantErr(t, "LatestScan empty digest", err, store.ErrInvalid)
		_, err = s.LatestScan(ctx, "sha256:\xff")
		wantErr(t, "LatestScan invalid UTF-8", err, store.ErrInvalid)
		_, err = s.ListScans(ctx, store.ScanFilter{Limit: -1})
		wantErr(t, "ListScans negative limit", err, store.ErrInvalid)
		got, err := s.ListScans(ctx, store.ScanFilter{})
		must(t, "ListScans", err)
		if len(got) != 0 {
			t.Errorf("invalid scans were stored: %v", scanKeys(got))
		}
	})
}

// largeJSON returns a JSON document of about n bytes whose content varies,
// so that no layer can get away with compressing it to nothing.
func largeJSON(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"i":%d,"h":"%x"}`, i, uint64(i)*0x9e3779b97f4a7c15)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}
