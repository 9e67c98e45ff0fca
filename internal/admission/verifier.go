package admission

import (
	"context"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/store"
)

// ScanRecords is the part of store.ScanStore the verifier reads: scans CI
// uploaded to palisade serve (POST /api/v1/scans).
type ScanRecords interface {
	LatestScan(ctx context.Context, imageDigest string) (store.ScanRecord, error)
}

// Verifier checks that an image has a passing, fresh scan — a DSSE
// attestation signed by a trusted key, or a scan record uploaded to the
// server — caching verdicts by digest (positive and negative verdicts with
// their own TTLs, size-bounded) and coalescing concurrent lookups: a
// 500-pod rollout of one image makes one registry round trip.
type Verifier struct {
	Registry attest.Registry
	// Keys verify attestations; empty leaves attestations out.
	Keys []*attest.PublicKey
	// Records holds uploaded scans; nil leaves them out.
	Records ScanRecords
	// PolicyDigests, when set, are the baselines a scan must have passed.
	PolicyDigests []string
	MaxScanAge    time.Duration
	MaxDBAge      time.Duration
	// Platform picks the manifest of a multi-arch index whose scan counts
	// as well as the index's own; default linux/amd64.
	Platform    string
	TagTTL      time.Duration // tag → digest; default 1m
	PositiveTTL time.Duration // default 10m
	NegativeTTL time.Duration // default 30s: a fresh attestation is seen soon
	Now         func() time.Time
	Metrics     *Metrics

	digests  *lru.Cache[string, cached[resolved]]
	verdicts *lru.Cache[string, cached[TrustVerdict]]
	flight   singleflight.Group
}

type cached[T any] struct {
	v       T
	expires time.Time
}

// NewVerifier builds a Verifier with caches of size entries each. Set
// Records (and clear Keys) to use uploaded scans.
func NewVerifier(reg attest.Registry, keys []*attest.PublicKey, size int) (*Verifier, error) {
	d, err := lru.New[string, cached[resolved]](size)
	if err != nil {
		return nil, fmt.Errorf("image verifier cache: %w", err)
	}
	v, err := lru.New[string, cached[TrustVerdict]](size)
	if err != nil {
		return nil, fmt.Errorf("image verifier cache: %w", err)
	}
	return &Verifier{Registry: reg, Keys: keys, digests: d, verdicts: v}, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Verify implements ImageVerifier.
func (v *Verifier) Verify(ctx context.Context, image string) (TrustVerdict, error) {
	r, err := v.resolve(ctx, image)
	if err != nil {
		return TrustVerdict{}, err
	}
	c, ok := v.verdicts.Get(r.Digest)
	hit := ok && v.now().Before(c.expires)
	v.Metrics.cacheLookup("verdict", hit)
	if hit {
		return c.v, nil
	}
	res, err, _ := v.flight.Do("verify "+r.Digest, func() (any, error) {
		verdict, err := v.verify(ctx, r)
		if err != nil {
			return nil, err
		}
		ttl := orDefault(v.NegativeTTL, 30*time.Second)
		if verdict.Trusted {
			ttl = orDefault(v.PositiveTTL, 10*time.Minute)
		}
		v.verdicts.Add(r.Digest, cached[TrustVerdict]{verdict, v.now().Add(ttl)})
		return verdict, nil
	})
	if err != nil {
		return TrustVerdict{}, err
	}
	return res.(TrustVerdict), nil
}

// Resolve maps an image reference to "repo@sha256:…", the digest its tag
// points at now (an index digest for a multi-arch image), from the same
// cache Verify uses.
func (v *Verifier) Resolve(ctx context.Context, image string) (string, error) {
	r, err := v.resolve(ctx, image)
	return r.Digest, err
}

func (v *Verifier) resolve(ctx context.Context, image string) (resolved, error) {
	c, ok := v.digests.Get(image)
	hit := ok && v.now().Before(c.expires)
	v.Metrics.cacheLookup("digest", hit)
	if hit {
		return c.v, nil
	}
	res, err, _ := v.flight.Do("resolve "+image, func() (any, error) {
		r, err := resolveImage(ctx, v.Registry, image, v.Platform)
		if err != nil {
			return nil, err
		}
		v.digests.Add(image, cached[resolved]{r, v.now().Add(orDefault(v.TagTTL, time.Minute))})
		return r, nil
	})
	if err != nil {
		return resolved{}, err
	}
	return res.(resolved), nil
}

var _ ImageVerifier = (*Verifier)(nil)
