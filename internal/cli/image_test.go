package cli

import (
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/palisade-sec/palisade/internal/attest"
)

func TestKeyGenerateAndImageVerify(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "ci")
	if code, out, errOut := run(t, "key", "generate", "--output-prefix", prefix); code != ExitOK || !strings.Contains(out, "key ID:") {
		t.Fatalf("key generate: %d %s %s", code, out, errOut)
	}
	if fi, err := os.Stat(prefix + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", fi, err)
	}
	if code, _, errOut := run(t, "key", "generate", "--output-prefix", prefix); code != ExitUsage || !strings.Contains(errOut, "exists") {
		t.Errorf("second generate without --force: %d %s", code, errOut)
	}

	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	push := func(repo string) name.Digest {
		img, _ := random.Image(256, 1)
		tag, _ := name.NewTag(host+"/"+repo+":1", name.Insecure)
		if err := remote.Write(tag, img); err != nil {
			t.Fatal(err)
		}
		h, _ := img.Digest()
		return tag.Context().Digest(h.String())
	}
	key, err := attest.LoadKey(prefix + ".key")
	if err != nil {
		t.Fatal(err)
	}
	reg := attest.Registry{Insecure: true, Keychain: authn.NewMultiKeychain()}
	attestAs := func(d name.Digest, verdict string) {
		p := &attest.ScanPredicate{ScannedAt: time.Now().UTC(), Verdict: verdict, PolicyDigest: "sha256:" + strings.Repeat("1", 64)}
		st, err := attest.Statement(d.Context().Name(), d.DigestStr(), p)
		if err != nil {
			t.Fatal(err)
		}
		env, err := attest.Sign(t.Context(), key, st)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Attach(t.Context(), d, env, p.ScannedAt); err != nil {
			t.Fatal(err)
		}
	}
	good, bad, bare := push("good"), push("bad"), push("bare")
	attestAs(good, "pass")
	attestAs(bad, "fail")

	tests := []struct {
		name, ref string
		want      int
		wantOut   string
	}{
		{"passing", host + "/good:1", ExitOK, "verdict:    pass"},
		{"failing", host + "/bad:1", ExitViolation, "verdict:    fail"},
		{"unattested", bare.String(), ExitViolation, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "image", "verify", "--insecure-registry", "--key", prefix+".pub", tt.ref)
			if code != tt.want || !strings.Contains(out, tt.wantOut) {
				t.Errorf("exit %d (want %d)\n%s\n%s", code, tt.want, out, errOut)
			}
		})
	}
	if code, _, _ := run(t, "image", "verify", "--key", filepath.Join(dir, "missing.pub"), host+"/good:1"); code != ExitUsage {
		t.Errorf("missing key file: exit %d, want 2", code)
	}
}
