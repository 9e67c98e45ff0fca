package admission

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/store"
)

// scanEvidence is one scan of an image, from an attestation or a record.
type scanEvidence struct {
	source       string // "attestation" or "scan record"
	digest       string // "sha256:…" of what was scanned
	scannedAt    time.Time
	dbTime       time.Time
	policyDigest string
	passed       bool
	counts       string // open findings, for a failing record's reason
}

// verify finds the newest scan of r from every source and judges it. The
// newest scan decides, whatever its source: a fresh failing scan must not
// be masked by an older passing one.
//
// When the store cannot be read but a passing attestation was found, the
// attestation decides if it admits the image, and partial is true: the
// caller caches such a verdict briefly, so that the record is looked at
// again once the store is back. Otherwise a store error fails
// verification (a record we could not read might have decided).
func (v *Verifier) verify(ctx context.Context, r resolved) (_ TrustVerdict, partial bool, _ error) {
	var newest *scanEvidence
	var storeErr error
	consider := func(e *scanEvidence) {
		if e != nil && (newest == nil || e.scannedAt.After(newest.scannedAt)) {
			newest = e
		}
	}
	for _, d := range r.digests() {
		e, err := v.attestation(ctx, d)
		if err != nil {
			return TrustVerdict{}, false, err
		}
		consider(e)
	}
	for _, d := range r.digests() {
		e, err := v.record(ctx, d)
		if err != nil {
			if newest == nil || !newest.passed {
				return TrustVerdict{}, false, err
			}
			storeErr, partial = err, true
			continue
		}
		consider(e)
	}
	_, digest, _ := strings.Cut(r.Digest, "@")
	if newest == nil {
		return TrustVerdict{Digest: digest, Reason: v.noScanReason()}, partial, nil
	}
	out := TrustVerdict{Digest: digest}
	switch {
	case !newest.passed:
		out.Reason = fmt.Sprintf("its scan of %s (%s) failed the baseline", newest.scannedAt.UTC().Format("2006-01-02"), newest.source)
		if newest.counts != "" {
			out.Reason += ": " + newest.counts
		}
	case len(v.PolicyDigests) > 0 && !contains(v.PolicyDigests, newest.policyDigest):
		out.Reason = "it was scanned against a baseline this cluster does not accept"
	default:
		out.Reason = freshEnough(v.now(), newest.scannedAt, newest.dbTime, v.MaxScanAge, v.MaxDBAge)
		out.Trusted = out.Reason == ""
	}
	if partial {
		if !out.Trusted {
			// A record we could not read might have admitted it.
			return TrustVerdict{}, false, storeErr
		}
		if v.Logger != nil {
			v.Logger.LogAttrs(ctx, slog.LevelWarn, "scan records unreadable; a passing attestation decided",
				slog.String("image", r.Digest), slog.Any("error", storeErr))
		}
	}
	return out, partial, nil
}

func (v *Verifier) noScanReason() string {
	switch {
	case v.Records == nil:
		return "it has no scan attestation signed by a trusted key; scan it with palisade image scan --attest"
	case len(v.Keys) == 0:
		return "it has no uploaded scan record; scan it with palisade image scan --upload"
	}
	return "it has no scan attestation signed by a trusted key and no uploaded scan record; scan it with palisade image scan --attest or --upload"
}

// attestation returns the newest attestation of digestRef a trusted key
// verifies, or nil. The envelopes are fetched once for all keys: asking
// per key (attest.Registry.VerifyImage) would list the referrers and read
// the .att tag once per key.
func (v *Verifier) attestation(ctx context.Context, digestRef string) (*scanEvidence, error) {
	if len(v.Keys) == 0 {
		return nil, nil
	}
	var nopts []name.Option
	if v.Registry.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	d, err := name.NewDigest(digestRef, nopts...)
	if err != nil {
		return nil, fmt.Errorf("parse image digest %q: %w", digestRef, err)
	}
	envs, err := v.Registry.Find(ctx, d)
	if err != nil {
		return nil, err
	}
	var newest *scanEvidence
	for _, env := range envs {
		for _, key := range v.Keys {
			a, err := attest.Verify(ctx, key, env, d.DigestStr())
			if err != nil {
				continue // another key's, or not about this image: perhaps another key verifies it
			}
			p := a.Predicate
			if newest == nil || p.ScannedAt.After(newest.scannedAt) {
				newest = &scanEvidence{
					source: "attestation", digest: d.DigestStr(), scannedAt: p.ScannedAt, dbTime: p.AdvisoryDBTime,
					policyDigest: p.PolicyDigest, passed: p.Passed(),
				}
			}
			break
		}
	}
	return newest, nil
}

// record returns the latest scan uploaded for digestRef, or nil.
func (v *Verifier) record(ctx context.Context, digestRef string) (*scanEvidence, error) {
	if v.Records == nil {
		return nil, nil
	}
	_, digest, _ := strings.Cut(digestRef, "@")
	rec, err := v.Records.LatestScan(ctx, digest)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read scan record of %s: %w", digest, err)
	}
	return &scanEvidence{
		source: "uploaded scan record", digest: rec.ImageDigest, scannedAt: rec.ScannedAt, dbTime: rec.AdvisoryDBTime,
		policyDigest: rec.PolicyDigest, passed: rec.Passed, counts: countsText(rec.Summary),
	}, nil
}

// countsText names the open findings of a scan, most severe first.
func countsText(c store.SeverityCounts) string {
	var parts []string
	for _, s := range []struct {
		n    int
		name string
	}{{c.Critical, "critical"}, {c.High, "high"}, {c.Medium, "medium"}, {c.Low, "low"}, {c.Unknown, "unknown"}} {
		if s.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", s.n, s.name))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ") + " open"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
