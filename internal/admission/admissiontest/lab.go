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
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
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
	if verdict != "" {
		h, err := img.Digest()
		if err != nil {
			tb.Fatal(err)
		}
		l.Attest(tb, tag.Context().Digest(h.String()), verdict, at)
	}
	return tag.String()
}

// Attest attaches an attestation with verdict, scanned at at, to the
// manifest or index at d.
func (l *Lab) Attest(tb testing.TB, d name.Digest, verdict string, at time.Time) {
	tb.Helper()
	p := &attest.ScanPredicate{ScannedAt: at.UTC(), Verdict: verdict}
	st, err := attest.Statement(d.Context().Name(), d.DigestStr(), p)
	if err != nil {
		tb.Fatal(err)
	}
	env, err := attest.Sign(tb.Context(), l.Key, st)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := l.Registry.Attach(tb.Context(), d, env, at); err != nil {
		tb.Fatal(err)
	}
}

// MultiArch is a multi-arch image PushIndex wrote.
type MultiArch struct {
	Tag                 string // repo:tag of the index
	Index, AMD64, ARM64 name.Digest
}

// PushIndex writes an index of a linux/amd64 and a linux/arm64 image at
// repoTag, without attestations.
func (l *Lab) PushIndex(tb testing.TB, repoTag string) MultiArch {
	tb.Helper()
	tag, err := name.NewTag(l.Host+"/"+repoTag, name.Insecure)
	if err != nil {
		tb.Fatal(err)
	}
	var idx v1.ImageIndex = empty.Index
	out := MultiArch{Tag: tag.String()}
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(256, 1)
		if err != nil {
			tb.Fatal(err)
		}
		h, err := img.Digest()
		if err != nil {
			tb.Fatal(err)
		}
		if arch == "amd64" {
			out.AMD64 = tag.Context().Digest(h.String())
		} else {
			out.ARM64 = tag.Context().Digest(h.String())
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	if err := remote.WriteIndex(tag, idx); err != nil {
		tb.Fatal(err)
	}
	h, err := idx.Digest()
	if err != nil {
		tb.Fatal(err)
	}
	out.Index = tag.Context().Digest(h.String())
	return out
}
