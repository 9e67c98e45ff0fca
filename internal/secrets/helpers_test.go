package secrets

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Test secrets are built at run time from a seeded generator, so that the
// source holds no token-shaped literals (other than the public examples
// vendors document) and every run sees the same values.

const (
	alnum  = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b64    = alnum + "+/"
	hexLow = "0123456789abcdef"
)

// gen returns deterministic random strings; the same name gives the same
// value.
func gen(name string, n int, alphabet string) string {
	var seed uint64
	for _, c := range name {
		seed = seed*131 + uint64(c)
	}
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// ghToken returns a classic-format GitHub token with a valid checksum.
func ghToken(prefix, name string) string {
	r := gen(name, 30, alnum)
	return prefix + "_" + r + githubChecksum(r)
}

// publicGitHubToken is the example token of the "GitHub token format" gist
// (coolaj86, 2021): an independent check of githubChecksum.
const publicGitHubToken = "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"

var (
	tokGitHub    = ghToken("ghp", "github")
	tokGitHubBad = tokGitHub[:39] + string(rune('A'+(tokGitHub[39]-'A'+1)%26)) // checksum broken
	tokGitHubPAT = "github_pat_" + gen("pat1", 22, alnum) + "_" + gen("pat2", 59, alnum)
	tokAWSID     = "AKIA" + gen("awsid", 16, upper)
	tokAWSSecret = gen("awssecret", 40, b64)
	tokAzureKey  = gen("azure", 86, b64) + "=="
	tokAzureCS   = gen("azcs1", 3, alnum) + "7Q~" + gen("azcs2", 34, alnum+"_~.-")
	tokGitLab    = "glpat-" + gen("gitlab", 20, alnum+"_-")
	tokSlack     = "xoxb-" + gen("s1", 12, "0123456789") + "-" + gen("s2", 13, "0123456789") + "-" + gen("s3", 24, alnum)
	tokSlackHook = "https://hooks.slack.com/services/T" + gen("h1", 8, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") + "/B" + gen("h2", 10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") + "/" + gen("h3", 24, alnum)
	tokStripe    = "sk_live_" + gen("stripe", 24, alnum)
	tokPassword  = gen("password", 18, alnum+"!#@^&*")
)

// jwt builds a token with the given header and payload JSON.
func jwt(header, payload string) string {
	e := base64.RawURLEncoding
	return e.EncodeToString([]byte(header)) + "." + e.EncodeToString([]byte(payload)) + "." + gen(payload, 43, alnum+"-_")
}

// testKeyPEM returns a freshly generated PKCS#8 EC private key in PEM.
func testKeyPEM(t testing.TB, label string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: label, Bytes: der}))
}

// testCertPEM returns a self-signed certificate in PEM: public material
// that must never be reported.
func testCertPEM(t testing.TB) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
}

// jsonEscape escapes newlines as a JSON string would.
func jsonEscape(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }

// fakeKeyPEM returns a deterministic PEM block shaped like a private key
// (the detectors never parse key material), for golden tests.
func fakeKeyPEM(label, name string) string {
	body := gen(name, 256, b64)
	var b strings.Builder
	b.WriteString("-----BEGIN " + label + "-----\n")
	for len(body) > 0 {
		n := min(64, len(body))
		b.WriteString(body[:n] + "\n")
		body = body[n:]
	}
	b.WriteString("-----END " + label + "-----\n")
	return b.String()
}
