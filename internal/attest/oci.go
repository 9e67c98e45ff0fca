package attest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Media types of the stored attestation.
const (
	// ArtifactType marks a Palisade scan attestation among an image's
	// referrers. It is also the config media type, because registries that
	// predate artifactType (and some that don't) derive it from the config.
	ArtifactType = "application/vnd.palisade.scan-attestation.v1+json"
	// EnvelopeMediaType is the layer holding the DSSE envelope.
	EnvelopeMediaType = "application/vnd.dsse.envelope.v1+json"
)

// maxEnvelopeSize bounds what Find reads from a registry per attestation.
const maxEnvelopeSize = 4 << 20

// Registry says how to reach the registry holding the image.
type Registry struct {
	// Keychain resolves credentials; nil means authn.DefaultKeychain
	// (docker config and credential helpers).
	Keychain authn.Keychain
	// Insecure allows plain HTTP, for loopback test registries.
	Insecure bool
	// Transport overrides the HTTP transport.
	Transport http.RoundTripper
}

func (r Registry) nameOpts() []name.Option {
	if r.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

func (r Registry) remoteOpts(ctx context.Context) []remote.Option {
	kc := r.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	if r.Transport != nil {
		opts = append(opts, remote.WithTransport(r.Transport))
	}
	return opts
}

// Resolve returns the digest reference of ref (a tag or a digest).
func (r Registry) Resolve(ctx context.Context, ref string) (name.Digest, error) {
	parsed, err := name.ParseReference(ref, r.nameOpts()...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("parse image reference %q: %w", ref, err)
	}
	if d, ok := parsed.(name.Digest); ok {
		return d, nil
	}
	desc, err := remote.Head(parsed, r.remoteOpts(ctx)...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("resolve %s: %w", ref, err)
	}
	return parsed.Context().Digest(desc.Digest.String()), nil
}

// Attach stores env as an attestation of the image at subject. It uses the
// OCI 1.1 referrers API when the registry has it, else the sha256-<hex>.att
// tag that cosign-era tooling reads. It returns where it stored it.
func (r Registry) Attach(ctx context.Context, subject name.Digest, env *dsse.Envelope, now time.Time) (string, error) {
	opts := r.remoteOpts(ctx)
	subj, err := remote.Head(subject, opts...)
	if err != nil {
		return "", fmt.Errorf("read subject %s: %w", subject, err)
	}
	envJSON, err := json.Marshal(env)
	if err != nil {
		return "", fmt.Errorf("encode envelope: %w", err)
	}
	repo := subject.Context()
	config := static.NewLayer([]byte("{}"), types.MediaType(ArtifactType))
	layer := static.NewLayer(envJSON, EnvelopeMediaType)
	for _, l := range []v1.Layer{config, layer} {
		if err := remote.WriteLayer(repo, l, opts...); err != nil {
			return "", fmt.Errorf("upload attestation blob to %s: %w", repo, err)
		}
	}
	referrers, err := r.supportsReferrers(ctx, subject)
	if err != nil {
		return "", err
	}
	m := artifactManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  ArtifactType,
		Config:        descriptorOf(config),
		Layers:        []v1.Descriptor{descriptorOf(layer)},
		Annotations:   map[string]string{"org.opencontainers.image.created": now.UTC().Format(time.RFC3339)},
	}
	var target name.Reference
	if referrers {
		m.Subject = &v1.Descriptor{MediaType: subj.MediaType, Size: subj.Size, Digest: subj.Digest}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode attestation manifest: %w", err)
	}
	if referrers {
		target = repo.Digest(digestOf(raw))
	} else {
		target = repo.Tag(attTag(subject))
	}
	if err := remote.Put(target, rawManifest{raw: raw, mediaType: types.OCIManifestSchema1}, opts...); err != nil {
		return "", fmt.Errorf("push attestation to %s: %w", target, err)
	}
	return target.String(), nil
}

// Find returns every Palisade attestation envelope stored for subject, from
// the referrers API and the .att tag. Envelopes are not verified here.
func (r Registry) Find(ctx context.Context, subject name.Digest) ([]*dsse.Envelope, error) {
	opts := r.remoteOpts(ctx)
	repo := subject.Context()
	var manifests []name.Digest
	idx, err := remote.Referrers(subject, opts...)
	if err != nil {
		return nil, fmt.Errorf("list referrers of %s: %w", subject, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read referrers of %s: %w", subject, err)
	}
	for _, d := range im.Manifests {
		if d.ArtifactType == ArtifactType {
			manifests = append(manifests, repo.Digest(d.Digest.String()))
		}
	}
	var envs []*dsse.Envelope
	for _, m := range manifests {
		e, err := r.envelopes(ctx, m)
		if err != nil {
			return nil, err
		}
		envs = append(envs, e...)
	}
	att := repo.Tag(attTag(subject))
	if _, err := remote.Head(att, opts...); err == nil {
		e, err := r.envelopes(ctx, att)
		if err != nil {
			return nil, err
		}
		envs = append(envs, e...)
	} else if !isNotFound(err) {
		return nil, fmt.Errorf("look up %s: %w", att, err)
	}
	return envs, nil
}

func (r Registry) envelopes(ctx context.Context, ref name.Reference) ([]*dsse.Envelope, error) {
	opts := r.remoteOpts(ctx)
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("read attestation manifest %s: %w", ref, err)
	}
	var m artifactManifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return nil, fmt.Errorf("decode attestation manifest %s: %w", ref, err)
	}
	var out []*dsse.Envelope
	for _, l := range m.Layers {
		if l.MediaType != EnvelopeMediaType {
			continue
		}
		if l.Size > maxEnvelopeSize {
			return nil, fmt.Errorf("attestation %s: envelope of %d bytes exceeds %d", ref, l.Size, maxEnvelopeSize)
		}
		blob, err := remote.Layer(ref.Context().Digest(l.Digest.String()), opts...)
		if err != nil {
			return nil, fmt.Errorf("fetch envelope %s: %w", l.Digest, err)
		}
		rc, err := blob.Compressed()
		if err != nil {
			return nil, fmt.Errorf("fetch envelope %s: %w", l.Digest, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxEnvelopeSize+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("read envelope %s: %w", l.Digest, err)
		}
		env := &dsse.Envelope{}
		if err := json.Unmarshal(b, env); err != nil {
			return nil, fmt.Errorf("decode envelope %s: %w", l.Digest, err)
		}
		out = append(out, env)
	}
	return out, nil
}

// supportsReferrers asks the registry's referrers endpoint directly; 404
// means the API is absent (the OCI 1.1 distribution spec's test).
func (r Registry) supportsReferrers(ctx context.Context, subject name.Digest) (bool, error) {
	repo := subject.Context()
	kc := r.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	auth, err := kc.Resolve(repo)
	if err != nil {
		return false, fmt.Errorf("resolve credentials for %s: %w", repo, err)
	}
	base := r.Transport
	if base == nil {
		base = remote.DefaultTransport
	}
	tr, err := transport.NewWithContext(ctx, repo.Registry, auth, base, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return false, fmt.Errorf("connect to %s: %w", repo.RegistryStr(), err)
	}
	u := url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr(), Path: "/v2/" + repo.RepositoryStr() + "/referrers/" + subject.DigestStr()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, fmt.Errorf("probe referrers API: %w", err)
	}
	req.Header.Set("Accept", string(types.OCIImageIndex))
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return false, fmt.Errorf("probe referrers API of %s: %w", repo.RegistryStr(), err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK && strings.Contains(resp.Header.Get("Content-Type"), "index"), nil
}

func attTag(d name.Digest) string { return strings.Replace(d.DigestStr(), ":", "-", 1) + ".att" }

func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

// artifactManifest is an OCI image manifest used as an artifact; ggcr's
// v1.Manifest has no artifactType for image manifests in every path, so the
// JSON is written here.
type artifactManifest struct {
	SchemaVersion int64             `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        v1.Descriptor     `json:"config"`
	Layers        []v1.Descriptor   `json:"layers"`
	Subject       *v1.Descriptor    `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

func descriptorOf(l v1.Layer) v1.Descriptor {
	d, _ := l.Digest() // static layers hash in memory and cannot fail
	s, _ := l.Size()
	mt, _ := l.MediaType()
	return v1.Descriptor{MediaType: mt, Size: s, Digest: d}
}

func digestOf(b []byte) string {
	h, _, _ := v1.SHA256(strings.NewReader(string(b)))
	return h.String()
}
