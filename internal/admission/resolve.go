package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

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

// key identifies r's verdict: the digests whose scans count for it.
func (r resolved) key() string {
	if r.Platform == "" {
		return r.Digest
	}
	return r.Digest + "+" + r.Platform
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
		return indexOfPinned(ctx, image, out, opts)
	}
	want, err := v1.ParsePlatform(platformOrDefault(platform))
	if err != nil {
		return resolved{}, fmt.Errorf("platform %q: %w", platform, err)
	}
	im, err := indexManifest(repo.Digest(desc.Digest.String()), opts)
	if err != nil {
		return resolved{}, err
	}
	for _, m := range im.Manifests {
		if m.Platform != nil && m.Platform.Satisfies(*want) {
			out.Platform = repo.Digest(m.Digest.String()).String()
			break
		}
	}
	return out, nil
}

func indexManifest(d name.Digest, opts []remote.Option) (*v1.IndexManifest, error) {
	idx, err := remote.Index(d, opts...)
	if err != nil {
		return nil, fmt.Errorf("read index %s: %w", d, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read index %s: %w", d, err)
	}
	return im, nil
}

// indexOfPinned handles "repo:tag@sha256:P" where P is one platform's
// manifest, as `crane digest --platform` gives: CI often scans and attests
// the multi-arch index the tag names, so when the tag's index holds P, a
// scan of the index counts for P too. Without a tag, or when the tag moved
// to an index without P, only P's own scans count. One more HEAD per
// pinned reference, once: the answer is cached as long as the digest.
func indexOfPinned(ctx context.Context, image string, out resolved, opts []remote.Option) (resolved, error) {
	named, _, pinned := strings.Cut(image, "@")
	if !pinned || !strings.Contains(afterSlash(named), ":") {
		return out, nil
	}
	tag, err := name.NewTag(named, name.WeakValidation)
	if err != nil {
		return out, nil
	}
	desc, err := remote.Head(tag, opts...)
	if err != nil {
		var terr *transport.Error
		if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
			return out, nil // the tag is gone: P stands alone
		}
		return resolved{}, fmt.Errorf("resolve %s: %w", named, err)
	}
	if !desc.MediaType.IsIndex() {
		return out, nil
	}
	im, err := indexManifest(tag.Context().Digest(desc.Digest.String()), opts)
	if err != nil {
		return resolved{}, err
	}
	_, p, _ := strings.Cut(out.Digest, "@")
	for _, m := range im.Manifests {
		if m.Digest.String() == p {
			return resolved{Digest: tag.Context().Digest(desc.Digest.String()).String(), Platform: out.Digest}, nil
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
