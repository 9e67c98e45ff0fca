package attest

import (
	"context"
	"errors"
	"fmt"
)

// ImageVerdict is the result of checking an image's attestations.
type ImageVerdict struct {
	Digest string
	// Attestation is the newest attestation that verified, if any.
	Attestation *Verified
	// Rejected explains each envelope that did not verify.
	Rejected []error
}

// VerifyImage resolves ref to a digest (a tag with one HEAD request; a
// digest reference as it is, with none) and returns the newest attestation
// that pub verifies for it. It returns an error wrapping ErrNotAttested when
// none does; the verdict (pass/fail) inside is the caller's to judge.
func (r Registry) VerifyImage(ctx context.Context, ref string, pub *PublicKey) (*ImageVerdict, error) {
	d, err := r.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	envs, err := r.Find(ctx, d)
	if err != nil {
		return nil, err
	}
	out := &ImageVerdict{Digest: d.DigestStr()}
	for i, env := range envs {
		v, err := Verify(ctx, pub, env, out.Digest)
		if err != nil {
			out.Rejected = append(out.Rejected, fmt.Errorf("attestation %d: %w", i+1, err))
			continue
		}
		if out.Attestation == nil || v.Predicate.ScannedAt.After(out.Attestation.Predicate.ScannedAt) {
			out.Attestation = v
		}
	}
	if out.Attestation == nil {
		return out, fmt.Errorf("%s: %w (%d found, %d rejected): %w", ref, ErrNotAttested, len(envs), len(out.Rejected), errors.Join(out.Rejected...))
	}
	return out, nil
}
