package attest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// PredicateType names Palisade's scan predicate.
const PredicateType = "https://palisade.dev/attestations/image-scan/v1"

// PayloadType is the DSSE payload type of an in-toto statement.
const PayloadType = "application/vnd.in-toto+json"

// ScanPredicate is what a passing scan asserts about an image.
type ScanPredicate struct {
	Scanner struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"scanner"`
	ScannedAt time.Time `json:"scannedAt"`
	// AdvisoryDBTime is when the advisory database was last updated: an
	// admission policy can refuse scans made on stale data.
	AdvisoryDBTime time.Time `json:"advisoryDbTime,omitzero"`
	// PolicyDigest identifies the baseline the image was judged by.
	PolicyDigest string         `json:"policyDigest"`
	Verdict      string         `json:"verdict"` // "pass" or "fail"
	Counts       map[string]int `json:"counts"`  // open findings by severity
}

// Passed reports whether the scan passed its baseline.
func (p *ScanPredicate) Passed() bool { return p.Verdict == "pass" }

// Statement builds the in-toto v1 statement about the image repo@digest.
func Statement(repo, digest string, p *ScanPredicate) ([]byte, error) {
	alg, hexDigest, ok := strings.Cut(digest, ":")
	if !ok || alg != "sha256" || len(hexDigest) != 64 {
		return nil, fmt.Errorf("subject digest %q: want sha256:<64 hex>", digest)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode predicate: %w", err)
	}
	pred := &structpb.Struct{}
	if err := protojson.Unmarshal(raw, pred); err != nil {
		return nil, fmt.Errorf("encode predicate: %w", err)
	}
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       []*intoto.ResourceDescriptor{{Name: repo, Digest: map[string]string{alg: hexDigest}}},
		PredicateType: PredicateType,
		Predicate:     pred,
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("build statement: %w", err)
	}
	return protojson.Marshal(st)
}

// Sign wraps a statement in a DSSE envelope signed by key.
func Sign(ctx context.Context, key *Key, statement []byte) (*dsse.Envelope, error) {
	s, err := dsse.NewEnvelopeSigner(key)
	if err != nil {
		return nil, fmt.Errorf("sign statement: %w", err)
	}
	env, err := s.SignPayload(ctx, PayloadType, statement)
	if err != nil {
		return nil, fmt.Errorf("sign statement: %w", err)
	}
	return env, nil
}

// ErrNotAttested is returned when no attestation verifies for an image.
var ErrNotAttested = errors.New("no valid scan attestation")

// Verified is an attestation that verified.
type Verified struct {
	KeyID     string
	Predicate ScanPredicate
}

// Verify checks env's signature with pub and that its statement is a
// Palisade scan about digest. It does not judge the verdict: callers decide
// what a failing or stale scan means for them.
func Verify(ctx context.Context, pub *PublicKey, env *dsse.Envelope, digest string) (*Verified, error) {
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("envelope payload type %q, want %q", env.PayloadType, PayloadType)
	}
	v, err := dsse.NewEnvelopeVerifier(pub)
	if err != nil {
		return nil, fmt.Errorf("verify envelope: %w", err)
	}
	accepted, payload, err := v.VerifyAndDecode(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("verify envelope signature: %w", err)
	}
	st := &intoto.Statement{}
	if err := protojson.Unmarshal(payload, st); err != nil {
		return nil, fmt.Errorf("decode statement: %w", err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("invalid statement: %w", err)
	}
	if st.GetPredicateType() != PredicateType {
		return nil, fmt.Errorf("predicate type %q, want %q", st.GetPredicateType(), PredicateType)
	}
	alg, hexDigest, _ := strings.Cut(digest, ":")
	match := false
	for _, s := range st.GetSubject() {
		if s.GetDigest()[alg] == hexDigest {
			match = true
		}
	}
	if !match {
		return nil, fmt.Errorf("statement is about another image, not %s", digest)
	}
	raw, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return nil, fmt.Errorf("decode predicate: %w", err)
	}
	out := &Verified{KeyID: accepted[0].KeyID}
	if err := json.Unmarshal(raw, &out.Predicate); err != nil {
		return nil, fmt.Errorf("decode predicate: %w", err)
	}
	return out, nil
}
