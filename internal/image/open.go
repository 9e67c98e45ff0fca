package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Options configure Open. The zero value is usable.
type Options struct {
	// Platform picks an image from a multi-arch index; nil means
	// linux/<host architecture>.
	Platform *v1.Platform
	// Insecure allows plain HTTP to the registry (loopback test and
	// development registries).
	Insecure bool
	// Keychain resolves registry credentials; nil means
	// authn.DefaultKeychain (docker config and credential helpers).
	Keychain authn.Keychain
	// Transport is the HTTP transport for registry requests; nil means
	// remote.DefaultTransport.
	Transport http.RoundTripper
}

// DefaultPlatform returns linux/<host architecture>.
func DefaultPlatform() v1.Platform {
	return v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
}

func (o Options) platform() v1.Platform {
	if o.Platform != nil {
		return *o.Platform
	}
	return DefaultPlatform()
}

// Open resolves src to an image. Manifests and the config are read now;
// layer blobs are read only by Walk.
func Open(ctx context.Context, src Source, opts Options) (*Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch src.Kind {
	case KindRegistry:
		return openRemote(ctx, src, opts)
	case KindOCILayout:
		return openLayout(src, opts)
	case KindDockerArchive:
		return openArchive(src)
	case KindDir:
		fi, err := os.Stat(src.Path)
		if err != nil {
			return nil, fmt.Errorf("open rootfs %s: %w", src.Path, err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("open rootfs %s: not a directory", src.Path)
		}
		return &Image{Source: src, dir: src.Path, Layers: []Layer{{Index: 0}}}, nil
	}
	return nil, fmt.Errorf("open image %s: %w: unknown source kind %v", src, ErrBadReference, src.Kind)
}

func openRemote(ctx context.Context, src Source, opts Options) (*Image, error) {
	var nopts []name.Option
	if opts.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(src.Ref, nopts...)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadReference, src.Ref, err)
	}
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ropts := []remote.Option{
		remote.WithContext(ctx), // ggcr's API: the context travels with the request options
		remote.WithAuthFromKeychain(kc),
		remote.WithPlatform(opts.platform()),
	}
	if opts.Transport != nil {
		ropts = append(ropts, remote.WithTransport(opts.Transport))
	}
	img, err := remote.Image(ref, ropts...)
	if err != nil {
		return nil, fmt.Errorf("fetch image %s: %w", ref, err)
	}
	return fromV1(src, img)
}

func openArchive(src Source) (*Image, error) {
	var tag *name.Tag
	if src.Tag != "" {
		t, err := name.NewTag(src.Tag)
		if err != nil {
			return nil, fmt.Errorf("%w %q: tag %q: %w", ErrBadReference, src, src.Tag, err)
		}
		tag = &t
	}
	img, err := tarball.ImageFromPath(src.Path, tag)
	if err != nil {
		return nil, fmt.Errorf("open docker archive %s: %w", src.Path, err)
	}
	return fromV1(src, img)
}

// refNameAnnotation names an image inside an OCI layout index.
const refNameAnnotation = "org.opencontainers.image.ref.name"

func openLayout(src Source, opts Options) (*Image, error) {
	idx, err := layout.ImageIndexFromPath(src.Path)
	if err != nil {
		return nil, fmt.Errorf("open oci layout %s: %w", src.Path, err)
	}
	img, err := pickImage(idx, src.Tag, opts.platform(), 0)
	if err != nil {
		return nil, fmt.Errorf("open oci layout %s: %w", src.Path, err)
	}
	return fromV1(src, img)
}

// errNoImage is returned when an index holds no image matching the request.
var errNoImage = errors.New("no matching image")

// maxIndexDepth bounds nested indexes, so a hostile layout that refers to
// itself cannot recurse forever.
const maxIndexDepth = 4

// pickImage selects from idx the image tagged tag (any tag if empty) that
// runs on plat, descending into nested indexes.
func pickImage(idx v1.ImageIndex, tag string, plat v1.Platform, depth int) (v1.Image, error) {
	if depth > maxIndexDepth {
		return nil, fmt.Errorf("image index nested deeper than %d", maxIndexDepth)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read index manifest: %w", err)
	}
	var candidates []v1.Descriptor
	for _, d := range im.Manifests {
		if tag != "" && depth == 0 && d.Annotations[refNameAnnotation] != tag {
			continue
		}
		candidates = append(candidates, d)
	}
	if len(candidates) == 0 {
		if tag != "" {
			return nil, fmt.Errorf("%w: no manifest tagged %q", errNoImage, tag)
		}
		return nil, fmt.Errorf("%w: index is empty", errNoImage)
	}
	var seen []string
	for _, d := range candidates {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("open index %s: %w", d.Digest, err)
			}
			img, err := pickImage(child, "", plat, depth+1)
			if errors.Is(err, errNoImage) {
				continue
			}
			return img, err
		case d.MediaType.IsImage():
			if d.Platform != nil {
				seen = append(seen, d.Platform.String())
				if !d.Platform.Satisfies(plat) {
					continue
				}
			}
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("open image %s: %w", d.Digest, err)
			}
			return img, nil
		}
	}
	return nil, fmt.Errorf("%w: no image for platform %s (index has %v)", errNoImage, plat.String(), seen)
}
