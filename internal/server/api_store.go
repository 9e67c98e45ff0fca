package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/store"
)

// maxPageSize bounds one API page so a careless client cannot make the
// server materialise a whole table.
const maxPageSize = 1000

// MountStoreAPI serves the store read-only under /api/v1/:
//
//	GET /api/v1/findings?scope=&minSeverity=&status=&rule=&namespace=&limit=&offset=
//	GET /api/v1/scans/{digest}   the latest scan of an image digest
//	POST /api/v1/scans           record a scan (ScanUpload)
//	GET /api/v1/alerts?cluster=&rule=&status=&minSeverity=   audit alerts, newest first
func (s *Server) MountStoreAPI(st store.Store) {
	s.HandleAPI("GET /api/v1/findings", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := findingFilter(r.URL.Query())
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		recs, err := st.ListFindings(r.Context(), f)
		if err != nil {
			s.storeError(w, r, "list findings", err)
			return
		}
		type item struct {
			Scope     string          `json:"scope"`
			FirstSeen string          `json:"firstSeen"`
			LastSeen  string          `json:"lastSeen"`
			Finding   finding.Finding `json:"finding"`
		}
		items := make([]item, 0, len(recs))
		for _, rec := range recs {
			items = append(items, item{rec.Scope, rec.FirstSeen.UTC().Format(timeFormat), rec.LastSeen.UTC().Format(timeFormat), rec.Finding})
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": items, "limit": f.Limit, "offset": f.Offset})
	}))
	s.HandleAPI("GET /api/v1/scans/{digest}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, err := st.LatestScan(r.Context(), r.PathValue("digest"))
		if err != nil {
			s.storeError(w, r, "read scan", err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"imageDigest": rec.ImageDigest, "imageRef": rec.ImageRef, "scannedAt": rec.ScannedAt.UTC().Format(timeFormat),
			"policyDigest": rec.PolicyDigest, "passed": rec.Passed, "summary": rec.Summary,
		})
	}))
	s.HandleAPI("POST /api/v1/scans", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var up ScanUpload
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxScanUpload))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&up); err != nil {
			writeError(w, http.StatusBadRequest, "decode scan upload: "+err.Error())
			return
		}
		if !strings.HasPrefix(up.ImageDigest, "sha256:") || len(up.ImageDigest) != len("sha256:")+64 || up.ScannedAt.IsZero() {
			writeError(w, http.StatusBadRequest, "imageDigest (sha256:<64 hex>) and scannedAt are required")
			return
		}
		rec := store.ScanRecord{
			ImageDigest: up.ImageDigest, ImageRef: up.ImageRef, ScannedAt: up.ScannedAt, PolicyDigest: up.PolicyDigest,
			AdvisoryDBTime: up.AdvisoryDBTime, Passed: up.Passed, Summary: up.Summary, Report: up.Report,
		}
		if err := st.PutScan(r.Context(), rec); err != nil {
			s.storeError(w, r, "store scan", err)
			return
		}
		p, _ := PrincipalFrom(r.Context())
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "scan recorded", slog.String("digest", up.ImageDigest),
			slog.Bool("passed", up.Passed), slog.String("by", p.Name))
		writeJSON(w, http.StatusCreated, map[string]string{"imageDigest": up.ImageDigest})
	}))
	s.HandleAPI("GET /api/v1/alerts", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := store.AlertFilter{Cluster: q.Get("cluster"), RuleID: q.Get("rule"), Status: store.AlertStatus(q.Get("status")), Limit: 100}
		if v := q.Get("minSeverity"); v != "" {
			sev, err := finding.ParseSeverity(v)
			if err != nil {
				writeError(w, http.StatusBadRequest, "minSeverity: "+err.Error())
				return
			}
			f.MinSeverity = sev
		}
		alerts, err := st.ListAlerts(r.Context(), f)
		if err != nil {
			s.storeError(w, r, "list alerts", err)
			return
		}
		items := make([]json.RawMessage, 0, len(alerts))
		for _, a := range alerts {
			items = append(items, a.Raw)
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": items})
	}))
	s.AddReadinessCheck("store", st.Ping)
}

// maxScanUpload bounds an uploaded scan: reports of large images are a few
// megabytes.
const maxScanUpload = 32 << 20

// ScanUpload is the body of POST /api/v1/scans, sent by
// `palisade image scan --upload`: CI records the verdict it reached so that
// admission can trust images scanned without an attestation.
type ScanUpload struct {
	ImageDigest    string               `json:"imageDigest"`
	ImageRef       string               `json:"imageRef"`
	ScannedAt      time.Time            `json:"scannedAt"`
	PolicyDigest   string               `json:"policyDigest"`
	AdvisoryDBTime time.Time            `json:"advisoryDbTime"`
	Passed         bool                 `json:"passed"`
	Summary        store.SeverityCounts `json:"summary"`
	Report         json.RawMessage      `json:"report,omitempty"`
}

const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

func findingFilter(q url.Values) (store.FindingFilter, error) {
	f := store.FindingFilter{
		Scope:     q.Get("scope"),
		Status:    finding.Status(q.Get("status")),
		RuleID:    q.Get("rule"),
		Namespace: q.Get("namespace"),
		Limit:     100,
	}
	if v := q.Get("minSeverity"); v != "" {
		sev, err := finding.ParseSeverity(v)
		if err != nil {
			return f, fmt.Errorf("minSeverity: %w", err)
		}
		f.MinSeverity = sev
	}
	switch f.Status {
	case "", finding.StatusOpen, finding.StatusExcepted:
	default:
		return f, fmt.Errorf("status %q: want open or excepted", f.Status)
	}
	for name, dst := range map[string]*int{"limit": &f.Limit, "offset": &f.Offset} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, fmt.Errorf("%s %q: want a non-negative integer", name, v)
			}
			*dst = n
		}
	}
	if f.Limit == 0 || f.Limit > maxPageSize {
		f.Limit = maxPageSize
	}
	return f, nil
}

// storeError maps store errors to HTTP answers without exposing internals.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, "invalid request")
	default:
		s.logger.LogAttrs(r.Context(), slog.LevelError, what, slog.Any("error", err))
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}
