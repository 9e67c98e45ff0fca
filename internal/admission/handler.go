package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
)

// Path is where the validating webhook is mounted.
const Path = "/admission/v1/validate"

// maxReviewBytes bounds a review body: the API server caps requests at
// 3 MiB, and a review carries the object (and the old one on UPDATE).
const maxReviewBytes = 7 << 20

// Reviewer answers one admission request: *Engine validates, *Pinner
// mutates.
type Reviewer interface {
	Review(ctx context.Context, ar *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse
}

var _ Reviewer = (*Engine)(nil)

// Handler serves AdmissionReview requests for an Engine (or another
// Reviewer).
type Handler struct {
	Engine *Engine
	// Reviewer, when set, answers instead of Engine.
	Reviewer Reviewer
	// Deadline is the time the handler gives itself; it must stay below the
	// webhook's timeoutSeconds (3s in generated configurations) so that a
	// slow registry produces our decision, not the API server's timeout.
	Deadline time.Duration
	Logger   *slog.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST an admission.k8s.io/v1 AdmissionReview", http.StatusMethodNotAllowed)
		return
	}
	// Sized from Content-Length (the API server sets it), the body is read
	// without regrowing the buffer.
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, 0), maxReviewBytes)+bytes.MinRead))
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxReviewBytes)); err != nil {
		http.Error(w, "read review: too large or interrupted", http.StatusRequestEntityTooLarge)
		return
	}
	body := buf.Bytes()
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		http.Error(w, "decode AdmissionReview: "+err.Error(), http.StatusBadRequest)
		return
	}
	if review.Request == nil || review.APIVersion != "admission.k8s.io/v1" || review.Kind != "AdmissionReview" {
		http.Error(w, "want an admission.k8s.io/v1 AdmissionReview with a request", http.StatusBadRequest)
		return
	}
	deadline := h.Deadline
	if deadline == 0 {
		deadline = 2500 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(r.Context(), deadline)
	defer cancel()
	start := time.Now()
	var rv Reviewer = h.Engine
	if h.Reviewer != nil {
		rv = h.Reviewer
	}
	resp := rv.Review(ctx, review.Request)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && h.Logger != nil {
		h.Logger.Warn("admission review hit its deadline", "uid", review.Request.UID, "elapsed", time.Since(start))
	}
	out := admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
