package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/image/imagetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }

// layeredImage builds:
//
//	0  ADD rootfs.tar /     etc/os-release, usr/bin/tool (binary holding a token)
//	-  ENV APP_ENV=prod     (no layer)
//	1  COPY . /             app/.env (GitHub token), root/.ssh/id_rsa, app/settings.py (password)
//	2  RUN rm id_rsa        root/.ssh/.wh.id_rsa
//	3  COPY settings.py     app/settings.py without the password
func layeredImage(t testing.TB) *image.Image {
	t.Helper()
	v1img := imagetest.Image(t, v1.Config{Env: []string{"APP_ENV=prod"}},
		imagetest.Step{CreatedBy: "ADD rootfs.tar /", Layer: imagetest.Layer(t, fstest.MapFS{
			"etc/os-release": file("ID=debian\nVERSION_ID=\"12\"\n"),
			"usr/bin/tool":   {Data: []byte("\x7fELF\x02\x01\x01\x00\x00token=" + tokGitHub + "\x00"), Mode: 0o755},
		})},
		imagetest.Step{CreatedBy: "ENV APP_ENV=prod"},
		imagetest.Step{CreatedBy: "COPY . /", Layer: imagetest.Layer(t, fstest.MapFS{
			"app/.env":         file("# app settings\nGITHUB_TOKEN=" + tokGitHub + "\nPORT=8080\n"),
			"root/.ssh/id_rsa": {Data: []byte(fakeKeyPEM("RSA PRIVATE KEY", "idrsa")), Mode: 0o600},
			"app/settings.py":  file("DEBUG = False\nDB_PASSWORD = \"" + tokPassword + "\"\n"),
		})},
		imagetest.Step{CreatedBy: "RUN /bin/sh -c rm /root/.ssh/id_rsa", Layer: imagetest.Layer(t, fstest.MapFS{
			"root/.ssh/.wh.id_rsa": file(""),
		})},
		imagetest.Step{CreatedBy: "COPY settings.py /app/settings.py", Layer: imagetest.Layer(t, fstest.MapFS{
			"app/settings.py": file("DEBUG = False\nDB_PASSWORD = os.environ[\"DB_PASSWORD\"]\n"),
		})},
	)
	img, err := image.FromV1(image.Source{Kind: image.KindRegistry, Ref: "registry.test/acme/app:1.0"}, v1img)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func evidence(f finding.Finding, name string) string {
	for _, e := range f.Evidence {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func TestScanImage(t *testing.T) {
	img := layeredImage(t)
	var s Scanner
	res, err := s.ScanImage(t.Context(), img)
	if err != nil {
		t.Fatal(err)
	}
	if res.Partial || len(res.LayerErrors)+len(res.FileErrors) > 0 {
		t.Fatalf("partial=%v layer errors %v file errors %v", res.Partial, res.LayerErrors, res.FileErrors)
	}
	if res.SkippedBinary != 1 {
		t.Errorf("SkippedBinary = %d, want 1 (usr/bin/tool)", res.SkippedBinary)
	}
	byRule := map[string]finding.Finding{}
	for _, f := range res.Findings {
		byRule[f.RuleID+" "+f.Resource.File] = f
		if f.Resource.File == "/usr/bin/tool" {
			t.Errorf("binary file reported: %s", f.RuleID)
		}
	}
	gh, ok := byRule["secret/github-token /app/.env"]
	if !ok {
		t.Fatalf("no GitHub token finding in /app/.env; got %v", keys(byRule))
	}
	if gh.Resource.Line != 2 || evidence(gh, EvLayer) != "1" || evidence(gh, EvRemovedInLayer) != "" || evidence(gh, EvCreatedBy) != "COPY . /" {
		t.Errorf("GitHub finding: line %d layer %q removed %q", gh.Resource.Line, evidence(gh, EvLayer), evidence(gh, EvRemovedInLayer))
	}
	key, ok := byRule["secret/file/ssh-private-key /root/.ssh/id_rsa"]
	if !ok {
		t.Fatalf("no id_rsa finding; got %v", keys(byRule))
	}
	if evidence(key, EvLayer) != "1" || evidence(key, EvRemovedInLayer) != "2" || evidence(key, EvRemoval) != "deleted" {
		t.Errorf("id_rsa: layer %q removedInLayer %q removal %q", evidence(key, EvLayer), evidence(key, EvRemovedInLayer), evidence(key, EvRemoval))
	}
	pw := byRule["secret/generic-assignment /app/settings.py"]
	if evidence(pw, EvRemovedInLayer) != "3" || evidence(pw, EvRemoval) != "replaced" {
		t.Errorf("settings.py: removedInLayer %q removal %q", evidence(pw, EvRemovedInLayer), evidence(pw, EvRemoval))
	}
	out, err := json.MarshalIndent(res.Findings, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{tokGitHub, tokPassword, tokGitHub[4:20]} {
		if bytes.Contains(out, []byte(secret)) {
			t.Fatalf("findings JSON contains a secret")
		}
	}
	golden(t, "image.golden.json", append(out, '\n'))
}

func keys(m map[string]finding.Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run go test ./internal/secrets -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); run go test ./internal/secrets -update if intended:\n%s", path, diff)
	}
}

func TestGoldenFilesUsed(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{"image.golden.json": true}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".json" && !used[e.Name()] {
			t.Errorf("orphaned golden file testdata/%s", e.Name())
		}
	}
}

func TestAllowlist(t *testing.T) {
	img := layeredImage(t)
	var plain Scanner
	all, err := plain.ScanImage(t.Context(), img)
	if err != nil {
		t.Fatal(err)
	}
	gh := ""
	for _, f := range all.Findings {
		if f.RuleID == "secret/github-token" {
			gh = evidence(f, EvFingerprint)
		}
	}
	if gh != Fingerprint("secret/github-token", tokGitHub) {
		t.Fatalf("fingerprint evidence %q is not Fingerprint(rule, secret)", gh)
	}
	for _, tc := range []struct {
		name  string
		allow Allowlist
		gone  []string // rule IDs that must disappear
	}{
		{"by rule", Allowlist{Rules: []string{"secret/github-token"}}, []string{"secret/github-token"}},
		{"by fingerprint", Allowlist{Fingerprints: []string{gh}}, []string{"secret/github-token"}},
		{"by path", Allowlist{Paths: []string{"/root/**"}}, []string{"secret/file/ssh-private-key"}},
		{"by path star", Allowlist{Paths: []string{"/app/*.py"}}, []string{"secret/generic-assignment"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Scanner{Allowlist: tc.allow}
			res, err := s.ScanImage(t.Context(), img)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Findings {
				for _, g := range tc.gone {
					if f.RuleID == g {
						t.Errorf("%s still reported in %s", g, f.Resource.File)
					}
				}
			}
			if len(res.Findings) >= len(all.Findings) {
				t.Errorf("allowlist removed nothing: %d findings", len(res.Findings))
			}
		})
	}
	bad := Scanner{Allowlist: Allowlist{Paths: []string{"/a/[x]"}}}
	if _, err := bad.ScanImage(t.Context(), img); err == nil {
		t.Error("bad glob accepted")
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		glob, path string
		want       bool
	}{
		{"/usr/share/doc/**", "/usr/share/doc/a/b/c.txt", true},
		{"/usr/share/doc/**", "/usr/share/docs/x", false},
		{"/app/*.pem", "/app/test.pem", true},
		{"/app/*.pem", "/app/sub/test.pem", false},
		{"**/testdata/**", "/src/pkg/testdata/key.pem", true},
		{"/a/**/b", "/a/b", true},
		{"/a/?.txt", "/a/1.txt", true},
		{"/a.b", "/aXb", false},
	} {
		re, err := globRegexp(tc.glob)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.MatchString(tc.path); got != tc.want {
			t.Errorf("glob %q on %q = %v, want %v", tc.glob, tc.path, got, tc.want)
		}
	}
}

func TestScanDirSource(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app", ".env"), []byte("STRIPE_KEY="+tokStripe+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(t.Context(), image.Source{Kind: image.KindDir, Path: dir}, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var s Scanner
	res, err := s.ScanImage(t.Context(), img)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.RuleID+" "+f.Resource.File)
	}
	want := []string{"secret/stripe-key /app/.env", "secret/file/dotenv /app/.env"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestScanCancelled(t *testing.T) {
	img := layeredImage(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var s Scanner
	res, err := s.ScanImage(ctx, img)
	if err == nil || res == nil || !res.Partial {
		t.Errorf("cancelled scan: err %v, result %+v", err, res)
	}
}

func TestTruncatedLayer(t *testing.T) {
	raw := imagetest.Tar(t, fstest.MapFS{
		"app/.env":  file("GITHUB_TOKEN=" + tokGitHub + "\n"),
		"app/z.txt": file(strings.Repeat("z", 4096)),
	})
	raw = raw[:len(raw)-3000] // cut inside the last file
	// imagetest.Image validates the image, which a truncated layer fails.
	v1img, err := mutate.AppendLayers(empty.Image, imagetest.TarLayer(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	img, err := image.FromV1(image.Source{Kind: image.KindRegistry, Ref: "registry.test/acme/cut:1"}, v1img)
	if err != nil {
		t.Fatal(err)
	}
	var s Scanner
	res, err := s.ScanImage(t.Context(), img)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Partial || len(res.FileErrors)+len(res.LayerErrors) == 0 {
		t.Errorf("truncated layer: partial %v, errors %v %v", res.Partial, res.FileErrors, res.LayerErrors)
	}
	if len(res.Findings) == 0 || res.Findings[0].RuleID != "secret/github-token" {
		t.Errorf("findings before the cut are lost: %v", res.Findings)
	}
}
