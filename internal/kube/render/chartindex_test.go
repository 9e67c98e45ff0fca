package render

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/kube"
)

// TestLoadDependenciesFromScannedCharts: in a repository of charts that
// take each other from a chart registry, a dependency charts/ lacks is
// read from the scanned chart of that name (or one beside a scanned
// chart) when its version matches; when none matches it stays missing,
// and the message says which versions the scan holds.
func TestLoadDependenciesFromScannedCharts(t *testing.T) {
	var log strings.Builder
	inv, err := Load(t.Context(), []string{"testdata/monorepo"}, nil, Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	// cache renders once: alone, not as store's disabled dependency.
	want := []string{"Deployment default/release-store", "Service default/release-cache", "Service default/release-db"}
	if got := refs(inv.Objects); !slices.Equal(got, want) {
		t.Errorf("rendered %q, want %q", got, want)
	}
	errs := kube.SplitErrors(err)
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one: store's db", err)
	}
	msg := errs[0].Error()
	for _, want := range []string{filepath.Join("testdata", "monorepo", "store"), "db 1.x.x (" + filepath.Join("testdata", "monorepo", "db") + " is 3.0.0)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "common") || strings.Contains(msg, "cache") {
		t.Errorf("error %q names common or cache, which the scan holds", msg)
	}
	for _, want := range []string{"count=2", "common 2.x.x from " + filepath.Join("testdata", "monorepo", "common") + " (2.3.0)"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log %q lacks %q", log.String(), want)
		}
	}
	if strings.Contains(log.String(), "cache 1.x.x") {
		t.Errorf("log %q names the disabled dependency", log.String())
	}

	// A chart scanned alone takes common from beside it; Helm (one chart,
	// no scan) does not look there.
	inv, err = Load(t.Context(), []string{"testdata/monorepo/db"}, nil, Options{})
	if got := refs(inv.Objects); err != nil || !slices.Equal(got, []string{"Service default/release-db"}) {
		t.Errorf("db alone: %q, %v; want its Service, common read from beside it", got, err)
	}
	objs, err := Helm(t.Context(), "testdata/monorepo/db", HelmOptions{}, kube.Limits{})
	if err == nil || !strings.Contains(err.Error(), "common >=2.0.0") || len(objs) != 0 {
		t.Errorf("Helm(db): %q, %v; want common missing and no object", refs(objs), err)
	}
}

// TestChartIndexFind: the newest matching version wins; a chart does not
// satisfy its own dependency; a bad range matches nothing.
func TestChartIndexFind(t *testing.T) {
	idx := chartIndex{}
	for _, c := range []struct{ dir, version string }{{"a/x", "1.2.0"}, {"b/x", "1.10.0"}, {"c/x", "2.0.0"}} {
		idx["x"] = append(idx["x"], indexedChart{dir: c.dir, version: semver.MustParse(c.version)})
	}
	for _, tc := range []struct {
		version, self, want string
	}{
		{"1.x.x", "", "b/x"},
		{"", "", "c/x"},
		{"~1.2", "", "a/x"},
		{"^2", "c/x", ""},
		{"3.x", "", ""},
		{"not a range", "", ""},
	} {
		got, ok := idx.find(&chartv2.Dependency{Name: "x", Version: tc.version}, tc.self)
		if (tc.want == "") == ok || (ok && got.dir != tc.want) {
			t.Errorf("find(x %q, self %q) = %v %v, want %q", tc.version, tc.self, got.dir, ok, tc.want)
		}
	}
}

// TestHelmGeneratedKeys: templates that generate keys and certificates
// render (with one key per scan, keyCache) into material that parses and
// chains as sprig's would: the server certificate verifies against the
// CA it was signed with, names its addresses, and matches its key.
func TestHelmGeneratedKeys(t *testing.T) {
	objs, err := Helm(t.Context(), "testdata/keygen", HelmOptions{}, kube.Limits{})
	if err != nil || len(objs) != 1 {
		t.Fatalf("rendered %q, %v", refs(objs), err)
	}
	data := objs[0].Typed.(*corev1.Secret).Data
	block := func(key string) []byte {
		t.Helper()
		b, _ := pem.Decode(data[key])
		if b == nil {
			t.Fatalf("%s is not PEM: %q", key, data[key])
		}
		return b.Bytes
	}
	cert := func(key string) *x509.Certificate {
		t.Helper()
		c, err := x509.ParseCertificate(block(key))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return c
	}
	ca, server := cert("ca.crt"), cert("tls.crt")
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := server.Verify(x509.VerifyOptions{Roots: pool, DNSName: "keygen.default.svc"}); err != nil {
		t.Errorf("server certificate: %v", err)
	}
	if len(server.IPAddresses) != 1 || server.IPAddresses[0].String() != "10.0.0.1" {
		t.Errorf("server IPs %v", server.IPAddresses)
	}
	key, err := x509.ParsePKCS1PrivateKey(block("tls.key"))
	if err != nil || !key.PublicKey.Equal(server.PublicKey) {
		t.Errorf("tls.key does not match tls.crt: %v", err)
	}
	if self := cert("self.crt"); self.Subject.CommonName != "self.example" || self.CheckSignature(self.SignatureAlgorithm, self.RawTBSCertificate, self.Signature) != nil {
		t.Errorf("self-signed certificate %v", self.Subject)
	}
	if _, err := x509.ParsePKCS1PrivateKey(block("rsa.key")); err != nil {
		t.Errorf("genPrivateKey rsa: %v", err)
	}
	ec, err := x509.ParseECPrivateKey(block("ec.key"))
	if err != nil {
		t.Fatalf("genPrivateKey ecdsa: %v", err)
	}
	if pub, ok := cert("ecca.crt").PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&ec.PublicKey) {
		t.Error("genCAWithKey did not use the generated EC key")
	}
	if _, ok := ca.PublicKey.(*rsa.PublicKey); !ok {
		t.Errorf("CA key %T, want RSA as sprig's", ca.PublicKey)
	}
}
