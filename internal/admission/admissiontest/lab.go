// Package admissiontest serves images in every trust state from an
// in-process OCI registry, for admission tests and benchmarks.
package admissiontest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/palisade-sec/palisade/internal/attest"
)

// Lab is a registry holding three images: Good (a passing attestation),
// Bad (a failing one) and Bare (none), signed by Key.
type Lab struct {
	Host            string
	Key             *attest.Key
	Registry        attest.Registry
	Good, Bad, Bare string // tag references
	// ManifestRequests counts manifest requests served since New returned.
	ManifestRequests atomic.Int64
	Server           *httptest.Server
}

// New starts the registry; it stops when tb ends.
func New(tb testing.TB) *Lab {
	tb.Helper()
	l := &Lab{}
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") {
			l.ManifestRequests.Add(1)
		}
		inner.ServeHTTP(w, r)
	}))
	tb.Cleanup(l.Server.Close)
	l.Host = strings.TrimPrefix(l.Server.URL, "http://")
	priv, _, err := attest.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	if l.Key, err = attest.ParseKey("lab.key", priv); err != nil {
		tb.Fatal(err)
	}
	l.Registry = attest.Registry{Insecure: true, Keychain: authn.NewMultiKeychain()}
	now := time.Now()
	l.Good = l.Push(tb, "shop/web:1.0", "pass", now)
	l.Bad = l.Push(tb, "shop/legacy:2.3", "fail", now)
	l.Bare = l.Push(tb, "shop/bare:0.1", "", now)
	l.ManifestRequests.Store(0)
	return l
}

// Push writes a random image at repoTag and, unless verdict is empty, an
// attestation with that verdict scanned at at.
func (l *Lab) Push(tb testing.TB, repoTag, verdict string, at time.Time) string {
	tb.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		tb.Fatal(err)
	}
	tag, err := name.NewTag(l.Host+"/"+repoTag, name.Insecure)
	if err != nil {
		tb.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		tb.Fatal(err)
	}
	if verdict == "" {
		return tag.String()
	}
	h, err := img.Digest()
	if err != nil {
		tb.Fatal(err)
	}
	p := &attest.ScanPredicate{ScannedAt: at.UTC(), Verdict: verdict}
	st, err := attest.Statement(tag.Context().Name(), h.String(), p)
	if err != nil {
		tb.Fatal(err)
	}
	env, err := attest.Sign(tb.Context(), l.Key, st)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := l.Registry.Attach(tb.Context(), tag.Context().Digest(h.String()), env, at); err != nil {
		tb.Fatal(err)
	}
	return tag.String()
}
