package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

func TestStoreAPI(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	fs := []finding.Finding{
		{RuleID: "privileged", Title: "Privileged container", Severity: finding.SeverityCritical, Message: "privileged",
			Resource: finding.Resource{Namespace: "legacy", Kind: "Deployment", Name: "batch-runner"}},
		{RuleID: "no-limits", Title: "No limits", Severity: finding.SeverityLow, Message: "no limits",
			Resource: finding.Resource{Namespace: "shop", Kind: "Deployment", Name: "web"}},
	}
	if _, err := st.ReplaceFindings(t.Context(), "cluster:lab", now, fs); err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t)
	s.MountStoreAPI(st)
	h := s.Handler()

	tests := []struct {
		name  string
		query string
		code  int
		count int
	}{
		{"all", "", http.StatusOK, 2},
		{"min severity", "?minSeverity=high", http.StatusOK, 1},
		{"namespace", "?namespace=shop", http.StatusOK, 1},
		{"scope miss", "?scope=cluster:other", http.StatusOK, 0},
		{"bad severity", "?minSeverity=dire", http.StatusBadRequest, 0},
		{"bad limit", "?limit=-3", http.StatusBadRequest, 0},
		{"bad status", "?status=maybe", http.StatusBadRequest, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/findings"+tt.query, nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.code, rec.Body)
			}
			if tt.code != http.StatusOK {
				return
			}
			var body struct{ Items []json.RawMessage }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if len(body.Items) != tt.count {
				t.Errorf("%d items, want %d: %s", len(body.Items), tt.count, rec.Body)
			}
		})
	}

	req := httptest.NewRequest(http.MethodGet, "/api/v1/scans/sha256:"+"ab", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound && rec.Code != http.StatusBadRequest {
		t.Errorf("unknown scan: status %d, want 404 or 400", rec.Code)
	}
}

func TestScanUpload(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := newTestServer(t)
	s.MountStoreAPI(st)
	h := s.Handler()
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name, body string
		code       int
	}{
		{"valid", `{"imageDigest":"` + digest + `","imageRef":"r/app:1","scannedAt":"2026-11-25T10:00:00Z","passed":true,"summary":{"Critical":0}}`, http.StatusCreated},
		{"short digest", `{"imageDigest":"sha256:ab","scannedAt":"2026-11-25T10:00:00Z"}`, http.StatusBadRequest},
		{"no time", `{"imageDigest":"` + digest + `"}`, http.StatusBadRequest},
		{"unknown field", `{"imageDigest":"` + digest + `","scannedAt":"2026-11-25T10:00:00Z","verdict":"pass"}`, http.StatusBadRequest},
		{"truncated", `{"imageDigest":`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/scans", strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+testToken)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.code {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.code, rec.Body)
			}
		})
	}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/scans/"+digest, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"passed": true`) {
		t.Errorf("read back: %d %s", rec.Code, rec.Body)
	}
}
