// Package attest makes and checks "trusted golden image" attestations: an
// in-toto v1 Statement about an image digest and its passing scan, signed in
// a DSSE envelope with an ECDSA P-256 key, stored in the image's registry as
// an OCI 1.1 referrer (or under the sha256-<hex>.att tag where the registry
// has no referrers API). No signing service or transparency log is needed:
// whoever holds the public key can verify.
package attest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Key signs attestations. Its String and LogValue never show the private key.
type Key struct {
	priv  *ecdsa.PrivateKey
	keyID string
}

// PublicKey verifies attestations.
type PublicKey struct {
	pub   *ecdsa.PublicKey
	keyID string
}

// GenerateKey creates a new ECDSA P-256 key pair and returns it as PEM:
// PKCS #8 for the private key, PKIX for the public key.
func GenerateKey() (privPEM, pubPEM []byte, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, nil, fmt.Errorf("encode private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), nil
}

// ParseKey reads a PEM private key (PKCS #8 or SEC 1 "EC PRIVATE KEY").
func ParseKey(name string, data []byte) (*Key, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", name)
	}
	var parsed any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%s: PEM block %q is not a private key", name, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: parse private key: %w", name, err)
	}
	k, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%s: want an ECDSA P-256 key", name)
	}
	id, err := keyID(&k.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Key{priv: k, keyID: id}, nil
}

// ParsePublicKey reads a PEM PKIX public key.
func ParsePublicKey(name string, data []byte) (*PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%s: want a PEM \"PUBLIC KEY\" block", name)
	}
	parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: parse public key: %w", name, err)
	}
	pub, ok := parsed.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%s: want an ECDSA P-256 public key", name)
	}
	id, err := keyID(pub)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &PublicKey{pub: pub, keyID: id}, nil
}

// LoadKey and LoadPublicKey read key files.
func LoadKey(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	return ParseKey(path, b)
}

// LoadPublicKey reads a public key file.
func LoadPublicKey(path string) (*PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	return ParsePublicKey(path, b)
}

// keyID is the hex SHA-256 of the PKIX public key: stable, and the same on
// the signing and the verifying side.
func keyID(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// Public returns the key's public half.
func (k *Key) Public() *PublicKey { return &PublicKey{pub: &k.priv.PublicKey, keyID: k.keyID} }

// KeyID identifies the key in signatures.
func (k *Key) KeyID() (string, error) { return k.keyID, nil }

// Sign implements dsse.Signer: ASN.1 ECDSA over SHA-256 of data.
func (k *Key) Sign(_ context.Context, data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	return ecdsa.SignASN1(rand.Reader, k.priv, sum[:])
}

func (k *Key) String() string { return "attest.Key(" + k.keyID[:12] + ", REDACTED)" }

// LogValue implements slog.LogValuer.
func (k *Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// PEM encodes the public key as a PKIX "PUBLIC KEY" block.
func (p *PublicKey) PEM() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(p.pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// KeyID identifies the key in signatures.
func (p *PublicKey) KeyID() (string, error) { return p.keyID, nil }

// Public implements dsse.Verifier.
func (p *PublicKey) Public() crypto.PublicKey { return p.pub }

// Verify implements dsse.Verifier.
func (p *PublicKey) Verify(_ context.Context, data, sig []byte) error {
	sum := sha256.Sum256(data)
	if !ecdsa.VerifyASN1(p.pub, sum[:], sig) {
		return errors.New("signature does not verify with this key")
	}
	return nil
}

var (
	_ dsse.Signer   = (*Key)(nil)
	_ dsse.Verifier = (*PublicKey)(nil)
)
