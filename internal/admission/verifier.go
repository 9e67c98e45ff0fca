package admission

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
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

// Defaults of the Verifier's durations.
const (
	defaultTagTTL        = time.Minute
	defaultPositiveTTL   = 10 * time.Minute
	defaultNegativeTTL   = 30 * time.Second
	defaultStaleTTL      = time.Hour
	defaultLookupTimeout = 10 * time.Second
)

// Verifier checks that an image has a passing, fresh scan — a DSSE
// attestation signed by a trusted key, or a scan record uploaded to the
// server — caching verdicts by digest (positive and negative verdicts with
// their own TTLs, size-bounded) and coalescing concurrent lookups: a
// 500-pod rollout of one image makes one registry round trip per request
// a single verification needs.
//
// During a registry or store outage it serves what it last saw, within
// bounds: a reference by digest keeps its resolution (digests are
// immutable), a tag's expired resolution is served up to PositiveTTL after
// it was fetched, and an expired verdict up to StaleTTL after it was made.
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
	// StaleTTL is how long after it was made an expired verdict is still
	// served when re-verifying it fails because the registry or the store
	// cannot be reached; default 1h. Nobody can attach a new attestation
	// or upload a record through the outage, so the old verdict is what a
	// fresh lookup would most likely say.
	StaleTTL time.Duration
	// LookupTimeout bounds one shared registry lookup or verification,
	// which runs apart from the request that started it (see shared);
	// default 10s.
	LookupTimeout time.Duration
	Now           func() time.Time
	Metrics       *Metrics
	// Logger receives warnings (a store error ignored because a passing
	// attestation decided); nil logs nothing.
	Logger *slog.Logger

	digests  *lru.Cache[string, cached[resolved]]
	verdicts *lru.Cache[string, cached[TrustVerdict]]
	flight   singleflight.Group
}

// cached is a cache entry. A zero expires never expires: the resolution
// of a reference by digest cannot change.
type cached[T any] struct {
	v       T
	fetched time.Time
	expires time.Time
}

func (c cached[T]) fresh(now time.Time) bool { return c.expires.IsZero() || now.Before(c.expires) }

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
	// A cached verdict is served stale while the registry is unreachable,
	// for StaleTTL at most.
	return cachedLookup(ctx, v, v.verdicts, "verdict", "verify", r.key(), orDefault(v.StaleTTL, defaultStaleTTL), func(ctx context.Context) (TrustVerdict, error) {
		verdict, partial, err := v.verify(ctx, r)
		if err != nil {
			return TrustVerdict{}, err
		}
		ttl := orDefault(v.NegativeTTL, defaultNegativeTTL)
		if verdict.Trusted && !partial {
			ttl = orDefault(v.PositiveTTL, defaultPositiveTTL)
		}
		now := v.now()
		v.verdicts.Add(r.key(), cached[TrustVerdict]{v: verdict, fetched: now, expires: now.Add(ttl)})
		return verdict, nil
	})
}

// Resolve maps an image reference to "repo@sha256:…", the digest its tag
// points at now (an index digest for a multi-arch image), from the same
// cache Verify uses.
func (v *Verifier) Resolve(ctx context.Context, image string) (string, error) {
	r, err := v.resolve(ctx, image)
	return r.Digest, err
}

func (v *Verifier) resolve(ctx context.Context, image string) (resolved, error) {
	key, pinned := cacheKey(image)
	// Stale-if-error for tags, bounded by PositiveTTL since the tag was
	// resolved: a tag can move, and PositiveTTL is already how long a
	// passing verdict is trusted without looking again. Past it, an
	// attacker who cuts us off from the registry must not keep a retagged
	// image on the old digest's verdict.
	return cachedLookup(ctx, v, v.digests, "digest", "resolve", key, orDefault(v.PositiveTTL, defaultPositiveTTL), func(ctx context.Context) (resolved, error) {
		// A reference by digest costs one lookup, to learn whether it
		// names an index and which platform manifest it holds, unless a
		// tag resolved to it before; the answer is as immutable as the
		// digest, so it never expires (the LRU bounds it).
		r, err := resolveImage(ctx, v.Registry, image, v.Platform)
		if err != nil {
			return resolved{}, err
		}
		now := v.now()
		if r.Digest == key || !pinned {
			v.digests.Add(r.Digest, cached[resolved]{v: r, fetched: now})
		} else {
			// A platform manifest pinned with its tag, found in the tag's
			// index: remembered under the reference's digest, without
			// replacing the index's own entry (its configured platform).
			v.digests.Add(key, cached[resolved]{v: r, fetched: now})
		}
		if !pinned {
			v.digests.Add(key, cached[resolved]{v: r, fetched: now, expires: now.Add(orDefault(v.TagTTL, defaultTagTTL))})
			// The tag pinned to what it names now (what the pinning
			// webhook writes) resolves the same, for good.
			if _, d, ok := strings.Cut(r.Digest, "@"); ok {
				if pk, _ := cacheKey(image + "@" + d); pk != key {
					v.digests.Add(pk, cached[resolved]{v: r, fetched: now})
				}
			}
		}
		return r, nil
	})
}

// cachedLookup returns the fresh entry of cache (named kind in metrics) at
// key, or else fetch's answer, fetched once for all concurrent callers
// (shared, under action and key; fetch stores what it learns). When fetch fails because the
// registry or store is unreachable, the entry is served stale while it
// was fetched at most staleFor ago (counted, not logged: during an outage
// every review lands here).
func cachedLookup[T any](ctx context.Context, v *Verifier, cache *lru.Cache[string, cached[T]], kind, action, key string, staleFor time.Duration, fetch func(context.Context) (T, error)) (T, error) {
	c, ok := cache.Get(key)
	hit := ok && c.fresh(v.now())
	v.Metrics.cacheLookup(kind, hit)
	if hit {
		return c.v, nil
	}
	res, err := v.shared(ctx, action+" "+key, func(ctx context.Context) (any, error) {
		// A flight that ended between our cache miss and this call may
		// have filled the cache: don't ask the registry twice.
		if c, ok := cache.Peek(key); ok && c.fresh(v.now()) {
			return c.v, nil
		}
		return fetch(ctx)
	})
	if err == nil {
		return res.(T), nil
	}
	if ok && unreachable(err) && v.now().Sub(c.fetched) <= staleFor {
		v.Metrics.staleServed(kind)
		return c.v, nil
	}
	var zero T
	return zero, err
}

// shared runs fn once for all concurrent callers with the same key, and
// returns when it ends or when ctx does, whichever is first: each waiter
// keeps its own deadline, so the handler can still answer (fail open or
// closed) before the API server gives up. fn runs with a context detached
// from the caller that started it, bounded by LookupTimeout: that caller's
// deadline passing must not fail the others still waiting.
func (v *Verifier) shared(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	ch := v.flight.DoChan(key, func() (any, error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), orDefault(v.LookupTimeout, defaultLookupTimeout))
		defer cancel()
		return fn(sctx)
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", key, ctx.Err())
	}
}

// cacheKey returns the digest cache's key for image, and whether image is
// a reference by digest, whose target cannot change. References by digest
// are keyed "repo@sha256:…", as resolved.Digest is: "repo:tag@sha256:…"
// (what the pinning webhook writes) and a digest a tag resolved to share
// one entry.
func cacheKey(image string) (string, bool) {
	if !strings.Contains(image, "@") {
		return image, false
	}
	d, err := name.NewDigest(image)
	if err != nil {
		return image, true // resolveImage reports it
	}
	key := d.Context().Digest(d.DigestStr()).String()
	if named, _, _ := strings.Cut(image, "@"); strings.Contains(afterSlash(named), ":") {
		// tag@digest may also count the tag's index's scans
		// (indexOfPinned): its own entry, so that the bare digest's
		// verdict does not depend on which form was seen first.
		key = d.Context().Tag(named[strings.LastIndexByte(named, ':')+1:]).String() + "@" + d.DigestStr()
	}
	return key, true
}

// unreachable reports whether err means the registry or the store could
// not answer (network error, timeout, 5xx, 429), as opposed to an answer
// about the image: a 4xx such as "manifest unknown" or "unauthorized" is
// the registry's word, and a cached entry must not outlive it.
func unreachable(err error) bool {
	var terr *transport.Error
	if errors.As(err, &terr) {
		s := terr.StatusCode
		return s >= 500 || s == http.StatusTooManyRequests || s == http.StatusRequestTimeout
	}
	return err != nil
}

var _ ImageVerifier = (*Verifier)(nil)
