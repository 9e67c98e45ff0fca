package attest

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func newKey(t *testing.T) *Key {
	t.Helper()
	priv, _, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey("test.key", priv)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func predicate(verdict string, at time.Time) *ScanPredicate {
	p := &ScanPredicate{ScannedAt: at, PolicyDigest: "sha256:" + strings.Repeat("c", 64), Verdict: verdict, Counts: map[string]int{"critical": 0, "high": 0, "medium": 3}}
	p.Scanner.Name, p.Scanner.Version = "palisade", "test"
	return p
}

const digest = "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

func TestKeys(t *testing.T) {
	priv, pub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey("k", priv)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePublicKey("p", pub)
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := k.KeyID()
	pid, _ := p.KeyID()
	if kid != pid || len(kid) != 64 {
		t.Errorf("key IDs differ or malformed: %s vs %s", kid, pid)
	}
	if strings.Contains(k.String(), "PRIVATE") || !strings.Contains(k.String(), "REDACTED") {
		t.Errorf("String() = %q", k.String())
	}
	for _, tt := range []struct{ name, in, want string }{
		{"garbage", "not pem", "no PEM block"},
		{"public as private", string(pub), "not a private key"},
		{"truncated", string(priv[:60]), "no PEM block"},
	} {
		if _, err := ParseKey(tt.name, []byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := ParsePublicKey("p", priv); err == nil {
		t.Error("private key accepted as public key")
	}
}

func TestSignVerify(t *testing.T) {
	ctx := t.Context()
	k := newKey(t)
	st, err := Statement("registry.example/app", digest, predicate("pass", time.Unix(1700000000, 0).UTC()))
	if err != nil {
		t.Fatal(err)
	}
	env, err := Sign(ctx, k, st)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(ctx, k.Public(), env, digest)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !v.Predicate.Passed() || v.Predicate.Counts["medium"] != 3 || !v.Predicate.ScannedAt.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("predicate = %+v", v.Predicate)
	}

	other := newKey(t)
	if _, err := Verify(ctx, other.Public(), env, digest); err == nil {
		t.Error("verified with another key")
	}
	if _, err := Verify(ctx, k.Public(), env, "sha256:"+strings.Repeat("a", 64)); err == nil || !strings.Contains(err.Error(), "another image") {
		t.Errorf("verified for another digest: %v", err)
	}
	tampered := *env
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	tampered.Payload = base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"pass"`, `"fail"`, 1)))
	if _, err := Verify(ctx, k.Public(), &tampered, digest); err == nil {
		t.Error("tampered payload verified")
	}
	if _, err := Statement("r", "sha256:short", predicate("pass", time.Now())); err == nil {
		t.Error("malformed subject digest accepted")
	}
}

func TestAttachFindVerify(t *testing.T) {
	for _, referrers := range []bool{true, false} {
		mode := map[bool]string{true: "referrers API", false: "att tag fallback"}[referrers]
		t.Run(mode, func(t *testing.T) {
			ctx := t.Context()
			srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(referrers), registry.Logger(discardLogger())))
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			img, err := random.Image(1024, 2)
			if err != nil {
				t.Fatal(err)
			}
			tag, err := name.NewTag(host+"/shop/web:1.0", name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
				t.Fatal(err)
			}
			reg := Registry{Insecure: true, Keychain: authn.NewMultiKeychain()}
			d, err := reg.Resolve(ctx, tag.String())
			if err != nil {
				t.Fatal(err)
			}
			k := newKey(t)
			older, newer := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
			for _, p := range []*ScanPredicate{predicate("fail", older), predicate("pass", newer)} {
				st, err := Statement(d.Context().Name(), d.DigestStr(), p)
				if err != nil {
					t.Fatal(err)
				}
				env, err := Sign(ctx, k, st)
				if err != nil {
					t.Fatal(err)
				}
				where, err := reg.Attach(ctx, d, env, p.ScannedAt)
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.HasSuffix(where, ".att"); got == referrers {
					t.Errorf("stored at %s; referrers API available: %v", where, referrers)
				}
			}
			v, err := reg.VerifyImage(ctx, tag.String(), k.Public())
			if err != nil {
				t.Fatalf("VerifyImage: %v", err)
			}
			if v.Digest != d.DigestStr() {
				t.Errorf("digest %s, want %s", v.Digest, d.DigestStr())
			}
			// The referrers API keeps both; the .att tag keeps the latest.
			if !v.Attestation.Predicate.ScannedAt.Equal(newer) || !v.Attestation.Predicate.Passed() {
				t.Errorf("newest attestation = %+v", v.Attestation.Predicate)
			}
			if err := validate.Image(img); err != nil {
				t.Errorf("image invalid: %v", err)
			}
			// Another key finds nothing it trusts.
			_, err = reg.VerifyImage(ctx, tag.String(), newKey(t).Public())
			if !errors.Is(err, ErrNotAttested) {
				t.Errorf("VerifyImage with an untrusted key: %v, want ErrNotAttested", err)
			}
		})
	}
}

func TestVerifyUnattestedImage(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(registry.New(registry.Logger(discardLogger())))
	defer srv.Close()
	img, _ := random.Image(512, 1)
	tag, _ := name.NewTag(strings.TrimPrefix(srv.URL, "http://")+"/bare:1", name.Insecure)
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	_, err := Registry{Insecure: true, Keychain: authn.NewMultiKeychain()}.VerifyImage(ctx, tag.String(), newKey(t).Public())
	if !errors.Is(err, ErrNotAttested) {
		t.Fatalf("err = %v, want ErrNotAttested", err)
	}
}
