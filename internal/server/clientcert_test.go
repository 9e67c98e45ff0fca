package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{c, key}
}

func (ca *testCA) issue(t *testing.T, cn string, orgs []string, usage x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn, Organization: orgs}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestClientCertAuditSource(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	pool, err := ParseClientCA("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := ParseTokens("tokens", []byte("0123456789abcdef0123,tok,"+AuditSourceGroup+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := AuditSources(pool, tokens)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cert    *x509.Certificate
		token   string
		cluster string
		ok      bool
	}{
		{"CN only", ca.issue(t, "prod", nil, x509.ExtKeyUsageClientAuth), "", "prod", true},
		{"audit-sources group", ca.issue(t, "prod", []string{AuditSourceGroup}, x509.ExtKeyUsageClientAuth), "", "prod", true},
		{"other group", ca.issue(t, "alice", []string{"system:masters"}, x509.ExtKeyUsageClientAuth), "", "", false},
		{"no CN", ca.issue(t, "", nil, x509.ExtKeyUsageClientAuth), "", "", false},
		{"server certificate", ca.issue(t, "prod", nil, x509.ExtKeyUsageServerAuth), "", "", false},
		{"other CA", other.issue(t, "prod", nil, x509.ExtKeyUsageClientAuth), "", "", false},
		{"other CA with a good token", other.issue(t, "prod", nil, x509.ExtKeyUsageClientAuth), "0123456789abcdef0123", "", false},
		{"token only", nil, "0123456789abcdef0123", "tok", true},
		{"nothing", nil, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/audit/v1/webhook", nil)
			r.TLS = &tls.ConnectionState{}
			if tc.cert != nil {
				r.TLS.PeerCertificates = []*x509.Certificate{tc.cert}
			}
			if tc.token != "" {
				r.Header.Set("Authorization", "Bearer "+tc.token)
			}
			cluster, ok := auth(r)
			if cluster != tc.cluster || ok != tc.ok {
				t.Errorf("got (%q, %v), want (%q, %v)", cluster, ok, tc.cluster, tc.ok)
			}
		})
	}
	if _, err := ParseClientCA("empty.pem", []byte("not pem")); err == nil {
		t.Error("a file without certificates was accepted as a client CA")
	}
}
