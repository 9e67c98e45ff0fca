package admission

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/palisade-sec/palisade/internal/attest"
)

// defaultPlatform is the platform whose manifest in a multi-arch index is
// checked when none is configured: what most clusters run.
const defaultPlatform = "linux/amd64"

// resolved is where an image reference points.
type resolved struct {
	// Digest is "repo@sha256:…" of what the reference names: an image
	// manifest or a multi-arch index.
	Digest string
	// Platform is "repo@sha256:…" of the configured platform's manifest
	// when Digest is an index that has one; empty otherwise. A scan of
	// either is accepted: CI tools attest one or the other.
	Platform string
}

// digests returns the digests whose scans count for r, index first.
func (r resolved) digests() []string {
	if r.Platform == "" {
		return []string{r.Digest}
	}
	return []string{r.Digest, r.Platform}
}

// resolveImage asks the registry what image names, with one HEAD request,
// plus one GET of the index for a multi-arch image.
func resolveImage(ctx context.Context, reg attest.Registry, image, platform string) (resolved, error) {
	var nopts []name.Option
	if reg.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(image, nopts...)
	if err != nil {
		return resolved{}, fmt.Errorf("parse image reference %q: %w", image, err)
	}
	kc := reg.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	if reg.Transport != nil {
		opts = append(opts, remote.WithTransport(reg.Transport))
	}
	desc, err := remote.Head(ref, opts...)
	if err != nil {
		return resolved{}, fmt.Errorf("resolve %s: %w", image, err)
	}
	repo := ref.Context()
	out := resolved{Digest: repo.Digest(desc.Digest.String()).String()}
	if !desc.MediaType.IsIndex() {
		return out, nil
	}
	want, err := v1.ParsePlatform(platformOrDefault(platform))
	if err != nil {
		return resolved{}, fmt.Errorf("platform %q: %w", platform, err)
	}
	idx, err := remote.Index(repo.Digest(desc.Digest.String()), opts...)
	if err != nil {
		return resolved{}, fmt.Errorf("read index %s: %w", out.Digest, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return resolved{}, fmt.Errorf("read index %s: %w", out.Digest, err)
	}
	for _, m := range im.Manifests {
		if m.Platform != nil && m.Platform.Satisfies(*want) {
			out.Platform = repo.Digest(m.Digest.String()).String()
			break
		}
	}
	return out, nil
}

func platformOrDefault(p string) string {
	if p == "" {
		return defaultPlatform
	}
	return p
}
