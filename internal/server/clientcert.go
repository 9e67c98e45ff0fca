package server

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
)

// LoadClientCA reads a PEM bundle of CA certificates that sign audit
// sources' client certificates (server.clientCA).
func LoadClientCA(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read client CA: %w", err)
	}
	return ParseClientCA(path, data)
}

// ParseClientCA parses a PEM bundle; name says where it came from in errors.
func ParseClientCA(name string, data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", name, n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no PEM CERTIFICATE block", name)
	}
	return pool, nil
}

// ClientCertAuditSource names the cluster whose API server sent r by its
// client certificate: one that chains to pool for client authentication
// names the cluster in its CN. Its O, when it has any, must include
// AuditSourceGroup, so a CA that also signs users (a cluster's own CA)
// cannot make every user an audit source.
//
// The TLS listener only requests certificates (see Options.ClientCAs): they
// are verified here, so a certificate from another CA is answered 401 like
// a bad token, not with a handshake failure the sender cannot read. A
// certificate that is presented and fails is never excused by a token.
func ClientCertAuditSource(pool *x509.CertPool) func(r *http.Request) (cluster string, presented, ok bool) {
	return func(r *http.Request) (string, bool, bool) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			return "", false, false
		}
		leaf := r.TLS.PeerCertificates[0]
		inter := x509.NewCertPool()
		for _, c := range r.TLS.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			return "", true, false
		}
		cn, orgs := leaf.Subject.CommonName, leaf.Subject.Organization
		if cn == "" || (len(orgs) > 0 && !slices.Contains(orgs, AuditSourceGroup)) {
			return "", true, false
		}
		return cn, true, true
	}
}

// AuditSources combines client certificates (when pool is set) and bearer
// tokens into one authenticator for the audit receiver.
func AuditSources(pool *x509.CertPool, tokens *Tokens) (func(r *http.Request) (string, bool), error) {
	if tokens == nil {
		return nil, errors.New("audit sources: tokens are required")
	}
	if pool == nil {
		return tokens.AuditSource, nil
	}
	byCert := ClientCertAuditSource(pool)
	return func(r *http.Request) (string, bool) {
		if cluster, presented, ok := byCert(r); presented {
			return cluster, ok
		}
		return tokens.AuditSource(r)
	}, nil
}
