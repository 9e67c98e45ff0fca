package admission

import (
	"context"
	"errors"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/palisade-sec/palisade/internal/attest"
)

// Verifier checks image attestations with trusted keys, caching verdicts by
// digest (positive and negative verdicts with their own TTLs, size-bounded)
// and coalescing concurrent lookups: a 500-pod rollout of one image makes one
// registry round trip.
type Verifier struct {
	Registry attest.Registry
	Keys     []*attest.PublicKey
	// PolicyDigests, when set, are the baselines a scan must have passed.
	PolicyDigests []string
	MaxScanAge    time.Duration
	MaxDBAge      time.Duration
	TagTTL        time.Duration // tag → digest; default 1m
	PositiveTTL   time.Duration // default 10m
	NegativeTTL   time.Duration // default 30s: a fresh attestation is seen soon
	Now           func() time.Time

	digests  *lru.Cache[string, cached[string]]
	verdicts *lru.Cache[string, cached[TrustVerdict]]
	flight   singleflight.Group
}

type cached[T any] struct {
	v       T
	expires time.Time
}

// NewVerifier builds a Verifier with caches of size entries each.
func NewVerifier(reg attest.Registry, keys []*attest.PublicKey, size int) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, errors.New("image verifier: at least one trusted public key is required")
	}
	d, err := lru.New[string, cached[string]](size)
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
	digest, err := v.resolve(ctx, image)
	if err != nil {
		return TrustVerdict{}, err
	}
	if c, ok := v.verdicts.Get(digest); ok && v.now().Before(c.expires) {
		return c.v, nil
	}
	res, err, _ := v.flight.Do("verify "+digest, func() (any, error) {
		verdict, err := v.verify(ctx, image, digest)
		if err != nil {
			return nil, err
		}
		ttl := orDefault(v.NegativeTTL, 30*time.Second)
		if verdict.Trusted {
			ttl = orDefault(v.PositiveTTL, 10*time.Minute)
		}
		v.verdicts.Add(digest, cached[TrustVerdict]{verdict, v.now().Add(ttl)})
		return verdict, nil
	})
	if err != nil {
		return TrustVerdict{}, err
	}
	return res.(TrustVerdict), nil
}

// resolve maps an image reference to "repo@sha256:…".
func (v *Verifier) resolve(ctx context.Context, image string) (string, error) {
	if c, ok := v.digests.Get(image); ok && v.now().Before(c.expires) {
		return c.v, nil
	}
	res, err, _ := v.flight.Do("resolve "+image, func() (any, error) {
		d, err := v.Registry.Resolve(ctx, image)
		if err != nil {
			return nil, err
		}
		s := d.String()
		v.digests.Add(image, cached[string]{s, v.now().Add(orDefault(v.TagTTL, time.Minute))})
		return s, nil
	})
	if err != nil {
		return "", err
	}
	return res.(string), nil
}

func (v *Verifier) verify(ctx context.Context, image, digestRef string) (TrustVerdict, error) {
	for _, key := range v.Keys {
		iv, err := v.Registry.VerifyImage(ctx, digestRef, key)
		if errors.Is(err, attest.ErrNotAttested) {
			continue // perhaps another trusted key signed it
		}
		if err != nil {
			return TrustVerdict{}, err
		}
		p := iv.Attestation.Predicate
		out := TrustVerdict{Digest: iv.Digest}
		switch {
		case !p.Passed():
			out.Reason = fmt.Sprintf("its scan of %s failed the baseline", p.ScannedAt.UTC().Format("2006-01-02"))
		case len(v.PolicyDigests) > 0 && !contains(v.PolicyDigests, p.PolicyDigest):
			out.Reason = "it was scanned against a baseline this cluster does not accept"
		default:
			out.Reason = freshEnough(v.now(), p.ScannedAt, p.AdvisoryDBTime, v.MaxScanAge, v.MaxDBAge)
			out.Trusted = out.Reason == ""
		}
		return out, nil
	}
	return TrustVerdict{Reason: "it has no scan attestation signed by a trusted key; scan it with palisade image scan --attest"}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var _ ImageVerifier = (*Verifier)(nil)
