package admission

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/palisade-sec/palisade/internal/admission/admissiontest"
	"github.com/palisade-sec/palisade/internal/attest"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/sqlite"
)

// regLab is an in-process registry (admissiontest's images) that counts
// every request by method and path, and can be made to hang.
type regLab struct {
	*admissiontest.Lab
	mu       sync.Mutex
	requests map[string]int // "HEAD /v2/shop/web/manifests/1.0" → count
	hang     atomic.Bool
	entered  chan struct{} // a request reached the hanging handler
	release  chan struct{} // closed: hanging requests go on
	once     sync.Once
}

func newRegLab(t *testing.T) *regLab {
	t.Helper()
	rl := &regLab{requests: map[string]int{}, entered: make(chan struct{}, 1024), release: make(chan struct{})}
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rl.mu.Lock()
		rl.requests[r.Method+" "+r.URL.Path]++
		rl.mu.Unlock()
		if rl.hang.Load() {
			rl.entered <- struct{}{}
			select {
			case <-rl.release:
			case <-r.Context().Done():
				return
			}
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	// Cleanups run last-in first-out: hanging handlers return before
	// srv.Close waits for them.
	t.Cleanup(rl.unblock)
	priv, _, err := attest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := attest.ParseKey("lab.key", priv)
	if err != nil {
		t.Fatal(err)
	}
	rl.Lab = &admissiontest.Lab{
		Host: strings.TrimPrefix(srv.URL, "http://"), Key: key, Server: srv,
		Registry: attest.Registry{Insecure: true, Keychain: authn.NewMultiKeychain()},
	}
	now := time.Now()
	rl.Good = rl.Push(t, "shop/web:1.0", "pass", now)
	rl.Bad = rl.Push(t, "shop/legacy:2.3", "fail", now)
	rl.Bare = rl.Push(t, "shop/bare:0.1", "", now)
	rl.reset()
	return rl
}

func (rl *regLab) unblock() { rl.once.Do(func() { close(rl.release) }) }

func (rl *regLab) reset() {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	clear(rl.requests)
}

// count returns how many requests matched method and contained part in
// their path since the last reset.
func (rl *regLab) count(method, part string) int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	n := 0
	for k, c := range rl.requests {
		m, path, _ := strings.Cut(k, " ")
		if m == method && strings.Contains(path, part) {
			n += c
		}
	}
	return n
}

func (rl *regLab) snapshot() map[string]int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	out := make(map[string]int, len(rl.requests))
	for k, c := range rl.requests {
		out[k] = c
	}
	return out
}

// digestRef returns image's "repo@sha256:…".
func (rl *regLab) digestRef(t *testing.T, image string) string {
	t.Helper()
	d, err := rl.Registry.Resolve(t.Context(), image)
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// clock is a Verifier clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// labVerifier returns a verifier of rl's attestations with caches of size
// entries, metrics, and a clock of its own.
func labVerifier(t *testing.T, rl *regLab, size int) (*Verifier, *clock) {
	t.Helper()
	v, err := NewVerifier(rl.Registry, []*attest.PublicKey{rl.Key.Public()}, size)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	v.Now = clk.Now
	if v.Metrics, err = NewMetrics(prometheus.NewRegistry()); err != nil {
		t.Fatal(err)
	}
	return v, clk
}

// TestVerifierOutage checks what a warm verifier admits once the registry
// is gone: tags for PositiveTTL after they were resolved, digests (whose
// resolution never expires) for StaleTTL after their verdict, and nothing
// once the registry said the tag is gone.
func TestVerifierOutage(t *testing.T) {
	closeRegistry := func(t *testing.T, rl *regLab, _ string) { rl.Server.Close() }
	tests := []struct {
		name   string
		image  func(t *testing.T, rl *regLab) string
		outage func(t *testing.T, rl *regLab, image string)
		after  time.Duration
		// wantText is in the denial; "" admits.
		wantText  string
		wantStale map[string]float64 // by cache
	}{
		{name: "tag at 2 min", image: goodTag, outage: closeRegistry, after: 2 * time.Minute,
			wantStale: map[string]float64{"digest": 1, "verdict": 0}},
		{name: "digest at 2 min", image: goodDigest, outage: closeRegistry, after: 2 * time.Minute,
			wantStale: map[string]float64{"digest": 0, "verdict": 0}},
		{name: "tag at 9 min", image: goodTag, outage: closeRegistry, after: 9 * time.Minute,
			wantStale: map[string]float64{"digest": 1, "verdict": 0}},
		{name: "tag past PositiveTTL fails closed", image: goodTag, outage: closeRegistry, after: 11 * time.Minute,
			wantText: "could not be checked"},
		{name: "digest at 11 min: expired verdict served", image: goodDigest, outage: closeRegistry, after: 11 * time.Minute,
			wantStale: map[string]float64{"digest": 0, "verdict": 1}},
		{name: "multi-arch index digest at 11 min", image: indexDigest, outage: closeRegistry, after: 11 * time.Minute,
			wantStale: map[string]float64{"digest": 0, "verdict": 1}},
		{name: "digest past StaleTTL fails closed", image: goodDigest, outage: closeRegistry, after: 61 * time.Minute,
			wantText: "could not be checked"},
		{name: "negative verdict served stale", image: func(_ *testing.T, rl *regLab) string { return rl.Bare }, outage: closeRegistry, after: 2 * time.Minute,
			wantText: "no scan attestation", wantStale: map[string]float64{"digest": 1, "verdict": 1}},
		{name: "tag the registry says is gone is not served", image: goodTag, after: 2 * time.Minute,
			outage: func(t *testing.T, rl *regLab, image string) {
				ref, err := name.ParseReference(image, name.Insecure)
				if err != nil {
					t.Fatal(err)
				}
				if err := remote.Delete(ref); err != nil {
					t.Fatal(err)
				}
			},
			wantText: "could not be checked", wantStale: map[string]float64{"digest": 0, "verdict": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rl := newRegLab(t)
			image := tt.image(t, rl)
			v, clk := labVerifier(t, rl, 64)
			e := trustEngine(v)
			warm := e.Review(t.Context(), podReview(t, "shop", pod(image)))
			if warm.Allowed != (image != rl.Bare) {
				t.Fatalf("warm review: allowed=%v (%+v)", warm.Allowed, warm.Result)
			}
			tt.outage(t, rl, image)
			clk.Add(tt.after)
			resp := e.Review(t.Context(), podReview(t, "shop", pod(image)))
			if resp.Allowed != (tt.wantText == "") {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, tt.wantText == "", resp.Result)
			}
			if tt.wantText != "" && !strings.Contains(resp.Result.Message, tt.wantText) {
				t.Errorf("denial %q lacks %q", resp.Result.Message, tt.wantText)

			}
			for cache, want := range tt.wantStale {
				if got := value(t, v.Metrics.stale.WithLabelValues(cache)); got != want {
					t.Errorf("stale %s answers = %v, want %v", cache, got, want)
				}
			}
		})
	}
}

func goodTag(_ *testing.T, rl *regLab) string { return rl.Good }

func goodDigest(t *testing.T, rl *regLab) string { return rl.digestRef(t, rl.Good) }

// indexDigest is a multi-arch index by digest whose linux/amd64 manifest,
// not the index, is attested: admitting it needs the cached platform.
func indexDigest(t *testing.T, rl *regLab) string {
	m := rl.PushIndex(t, "shop/multi:1.0")
	rl.Attest(t, m.AMD64, "pass", time.Now())
	return m.Index.String()
}

// TestVerifierStoreOutage checks scan records when the store is gone: a
// passing attestation still admits (briefly cached), a verdict made from a
// record is served for StaleTTL, and without either the review fails.
func TestVerifierStoreOutage(t *testing.T) {
	tests := []struct {
		name     string
		image    func(rl *regLab) string
		keys     bool // attestations count too
		record   bool // a passing record of the image, uploaded before the outage
		warm     bool // verified once before the outage
		after    time.Duration
		wantText string // in the denial; "" admits
		wantTTL  time.Duration
	}{
		{name: "passing attestation decides", image: func(rl *regLab) string { return rl.Good }, keys: true, wantTTL: defaultNegativeTTL},
		{name: "no attestation fails closed", image: func(rl *regLab) string { return rl.Bare }, keys: true, wantText: "could not be checked"},
		{name: "failing attestation fails closed", image: func(rl *regLab) string { return rl.Bad }, keys: true, wantText: "could not be checked"},
		{name: "record verdict served at 11 min", image: func(rl *regLab) string { return rl.Bare }, record: true, warm: true, after: 11 * time.Minute},
		{name: "record verdict past StaleTTL", image: func(rl *regLab) string { return rl.Bare }, record: true, warm: true, after: 61 * time.Minute, wantText: "could not be checked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rl := newRegLab(t)
			image := tt.image(rl)
			v, clk := labVerifier(t, rl, 64)
			if !tt.keys {
				v.Keys = nil
			}
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			digest := rl.digestRef(t, image)
			if tt.record {
				_, d, _ := strings.Cut(digest, "@")
				if err := st.PutScan(t.Context(), store.ScanRecord{ImageDigest: d, ImageRef: image, ScannedAt: time.Now(), PolicyDigest: "sha256:p1", Passed: true}); err != nil {
					t.Fatal(err)
				}
			}
			v.Records = st
			e := trustEngine(v)
			if tt.warm {
				if resp := e.Review(t.Context(), podReview(t, "shop", pod(image))); !resp.Allowed {
					t.Fatalf("warm review denied: %+v", resp.Result)
				}
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			clk.Add(tt.after)
			resp := e.Review(t.Context(), podReview(t, "shop", pod(image)))
			if resp.Allowed != (tt.wantText == "") {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, tt.wantText == "", resp.Result)
			}
			if tt.wantText != "" && !strings.Contains(resp.Result.Message, tt.wantText) {
				t.Errorf("denial %q lacks %q", resp.Result.Message, tt.wantText)

			}
			if tt.wantTTL > 0 {
				c, ok := v.verdicts.Peek(digest)
				if !ok || c.expires.Sub(c.fetched) != tt.wantTTL {
					t.Errorf("verdict cached for %v, want %v", c.expires.Sub(c.fetched), tt.wantTTL)
				}
			}
		})
	}
}

// TestVerifierCacheTTLs checks which lookups a second Verify makes after
// the clock moved: a passing verdict is reused for PositiveTTL, a failing
// one for NegativeTTL, a tag is re-resolved after TagTTL and a digest
// never.
func TestVerifierCacheTTLs(t *testing.T) {
	tests := []struct {
		name          string
		image         func(t *testing.T, rl *regLab) string
		second        func(rl *regLab, digest string) string // what the second lookup asks; default image
		attestBetween bool                                   // attach a passing attestation between the two lookups
		after         time.Duration
		wantHeads     int // manifest HEADs of the image (re-resolution)
		wantReferrers int // referrers lookups (re-verification)
		wantTrusted   bool
	}{
		{name: "positive reused at 9 min", image: goodTag, after: 9 * time.Minute, wantHeads: 1, wantReferrers: 0, wantTrusted: true},
		{name: "positive re-verified at 11 min", image: goodTag, after: 11 * time.Minute, wantHeads: 1, wantReferrers: 1, wantTrusted: true},
		{name: "tag reused at 59 s", image: goodTag, after: 59 * time.Second, wantHeads: 0, wantReferrers: 0, wantTrusted: true},
		{name: "digest not re-resolved at 11 min", image: goodDigest, after: 11 * time.Minute, wantHeads: 0, wantReferrers: 1, wantTrusted: true},
		{name: "digest a tag resolved to is not looked up", image: goodTag, second: func(_ *regLab, digest string) string { return digest },
			wantHeads: 0, wantReferrers: 0, wantTrusted: true},
		{name: "pinned tag@digest is not looked up", image: goodTag, second: func(rl *regLab, digest string) string { return rl.Good + digest[strings.Index(digest, "@"):] },
			wantHeads: 0, wantReferrers: 0, wantTrusted: true},
		{name: "negative reused at 29 s", image: bareTag, attestBetween: true, after: 29 * time.Second, wantHeads: 0, wantReferrers: 0, wantTrusted: false},
		{name: "negative re-verified at 31 s", image: bareTag, attestBetween: true, after: 31 * time.Second, wantHeads: 0, wantReferrers: 1, wantTrusted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rl := newRegLab(t)
			image := tt.image(t, rl)
			digest := rl.digestRef(t, image)
			repo, _, _ := strings.Cut(strings.TrimPrefix(digest, rl.Host), "@")
			v, clk := labVerifier(t, rl, 64)
			first, err := v.Verify(t.Context(), image)
			if err != nil {
				t.Fatal(err)
			}
			if first.Trusted != (image != rl.Bare) {
				t.Fatalf("first verdict %+v", first)
			}
			if tt.attestBetween {
				d, err := name.NewDigest(digest, name.Insecure)
				if err != nil {
					t.Fatal(err)
				}
				rl.Attest(t, d, "pass", time.Now())
			}
			rl.reset()
			clk.Add(tt.after)
			second := image
			if tt.second != nil {
				second = tt.second(rl, digest)
			}
			got, err := v.Verify(t.Context(), second)
			if err != nil {
				t.Fatal(err)
			}
			if got.Trusted != tt.wantTrusted {
				t.Errorf("trusted = %v, want %v (%s)", got.Trusted, tt.wantTrusted, got.Reason)
			}
			if n := rl.count(http.MethodHead, repo+"/manifests/") - rl.count(http.MethodHead, ".att"); n != tt.wantHeads {
				t.Errorf("%d manifest HEADs, want %d: %v", n, tt.wantHeads, rl.snapshot())
			}
			if n := rl.count(http.MethodGet, "/referrers/"); n != tt.wantReferrers {
				t.Errorf("%d referrers lookups, want %d: %v", n, tt.wantReferrers, rl.snapshot())
			}
		})
	}
}

func bareTag(_ *testing.T, rl *regLab) string { return rl.Bare }

// TestVerifierLRUEvicts checks that the caches are bounded: with room for
// two images, the first of three is verified again, the last is not.
func TestVerifierLRUEvicts(t *testing.T) {
	rl := newRegLab(t)
	v, _ := labVerifier(t, rl, 2)
	extra := rl.Push(t, "shop/extra:1.0", "pass", time.Now())
	images := []string{rl.Good, rl.Bad, extra}
	for _, image := range images {
		if _, err := v.Verify(t.Context(), image); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name          string
		image         string
		wantReferrers int
	}{
		{"most recent is cached", extra, 0},
		{"oldest was evicted", rl.Good, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rl.reset()
			if _, err := v.Verify(t.Context(), tt.image); err != nil {
				t.Fatal(err)
			}
			if n := rl.count(http.MethodGet, "/referrers/"); n != tt.wantReferrers {
				t.Errorf("%d referrers lookups, want %d", n, tt.wantReferrers)
			}
		})
	}
	if n := v.verdicts.Len(); n != 2 {
		t.Errorf("verdict cache holds %d entries, want 2", n)
	}
}

// TestVerifierDeadline checks that each waiter on a shared lookup keeps
// its own deadline while the registry hangs, that the caller who started
// the lookup leaving does not fail the others, and that the webhook answers
// (fail closed) within its own deadline.
func TestVerifierDeadline(t *testing.T) {
	t.Run("waiter leaves, shared lookup goes on", func(t *testing.T) {
		rl := newRegLab(t)
		v, _ := labVerifier(t, rl, 16)
		rl.hang.Store(true)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		firstErr := make(chan error, 1)
		go func() {
			_, err := v.Verify(ctx, rl.Good)
			firstErr <- err
		}()
		<-rl.entered // the first caller's lookup is in the registry
		second := make(chan TrustVerdict, 1)
		go func() {
			verdict, err := v.Verify(t.Context(), rl.Good)
			if err != nil {
				t.Errorf("second caller: %v", err)
			}
			second <- verdict
		}()
		var err error
		select {
		case err = <-firstErr:
		case <-time.After(time.Minute): // a guard against hanging, not a timing assertion
			t.Fatal("the first caller is still waiting for the hung registry")
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("first caller: err = %v, want its deadline", err)
		}
		rl.hang.Store(false)
		rl.unblock()
		if verdict := <-second; !verdict.Trusted {
			t.Errorf("second caller: %+v", verdict)
		}
		// One HEAD: the second caller joined the lookup the first one
		// started, which the first one's deadline did not cancel.
		if n := rl.count(http.MethodHead, "/manifests/1.0"); n != 1 {
			t.Errorf("%d HEADs of the tag, want 1", n)
		}
	})
	t.Run("handler fails closed within its deadline", func(t *testing.T) {
		rl := newRegLab(t)
		v, _ := labVerifier(t, rl, 16)
		rl.hang.Store(true)
		h := &Handler{Engine: trustEngine(v), Deadline: 100 * time.Millisecond}
		body, err := json.Marshal(admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request:  podReview(t, "shop", pod(rl.Good)),
		})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, Path, strings.NewReader(string(body))))
		var out admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
			t.Fatalf("response %s: %v", rec.Body, err)
		}
		if out.Response.Allowed || !strings.Contains(out.Response.Result.Message, "fails closed") {
			t.Errorf("response = %+v, want a fail-closed denial", out.Response.Result)
		}
	})
}

// TestVerifierRolloutOneRoundTrip checks that 500 concurrent reviews of one
// cold image make each registry request a single verification makes
// exactly once, among them a single manifest GET.
func TestVerifierRolloutOneRoundTrip(t *testing.T) {
	rl := newRegLab(t)
	v, _ := labVerifier(t, rl, 64)
	// The pings (GET /v2/) a single cold verification makes, measured on
	// another image: go-containerregistry pings before each operation.
	if _, err := v.Verify(t.Context(), rl.Bad); err != nil {
		t.Fatal(err)
	}
	pings := rl.count(http.MethodGet, "/v2/") - rl.count(http.MethodGet, "/v2/shop/")
	rl.reset()
	var wg sync.WaitGroup
	for range 500 {
		wg.Go(func() {
			if verdict, err := v.Verify(t.Context(), rl.Good); err != nil || !verdict.Trusted {
				t.Errorf("verdict %+v, %v", verdict, err)
			}
		})
	}
	wg.Wait()
	if n := rl.count(http.MethodGet, "/manifests/"); n != 1 {
		t.Errorf("%d manifest GETs, want 1", n)
	}
	for req, n := range rl.snapshot() {
		want := 1
		if req == "GET /v2/" {
			want = pings
		}
		if n != want {
			t.Errorf("%s: %d requests, want %d", req, n, want)
		}
	}
}
