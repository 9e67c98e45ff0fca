package image

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Kind says where an image comes from.
type Kind int

// The kinds of image source a reference can name.
const (
	KindRegistry      Kind = iota + 1 // a registry reference by tag or digest
	KindOCILayout                     // "oci:DIR[:TAG]"
	KindDockerArchive                 // "docker-archive:FILE" (docker save output)
	KindDir                           // "dir:PATH", an unpacked root filesystem
)

// String returns the reference prefix of k ("registry" for KindRegistry).
func (k Kind) String() string {
	switch k {
	case KindRegistry:
		return "registry"
	case KindOCILayout:
		return "oci"
	case KindDockerArchive:
		return "docker-archive"
	case KindDir:
		return "dir"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Source is a parsed image reference.
type Source struct {
	Kind Kind
	// Ref is the registry reference for KindRegistry, e.g.
	// "registry.example.com/app@sha256:…".
	Ref string
	// Path is the directory or file for the local kinds.
	Path string
	// Tag selects an image inside an OCI layout (the
	// org.opencontainers.image.ref.name annotation) or a docker archive
	// (a RepoTags entry). Empty means "the only image".
	Tag string
}

// String returns the reference in the form ParseSource accepts.
func (s Source) String() string {
	switch s.Kind {
	case KindRegistry:
		return s.Ref
	case KindOCILayout:
		if s.Tag != "" {
			return "oci:" + s.Path + ":" + s.Tag
		}
		return "oci:" + s.Path
	}
	if s.Tag != "" {
		return s.Kind.String() + ":" + s.Path + ":" + s.Tag
	}
	return s.Kind.String() + ":" + s.Path
}

// ErrBadReference is wrapped by every error ParseSource returns.
var ErrBadReference = errors.New("bad image reference")

// ParseSource parses the image reference forms Palisade accepts:
//
//	registry.example.com/team/app:1.2   registry reference by tag
//	app@sha256:<hex>                    registry reference by digest
//	oci:DIR[:TAG]                       OCI image layout directory
//	docker-archive:FILE[:REF]           tarball written by docker save; REF
//	                                    ("app:v1") picks one of its images
//	dir:PATH                            unpacked root filesystem
//
// Registry references are validated with go-containerregistry's parser.
func ParseSource(ref string) (Source, error) {
	if strings.TrimSpace(ref) == "" {
		return Source{}, fmt.Errorf("%w: empty reference", ErrBadReference)
	}
	prefix, rest, ok := strings.Cut(ref, ":")
	switch {
	case ok && prefix == "oci":
		p, tag := splitTag(rest)
		if p == "" {
			return Source{}, fmt.Errorf("%w %q: oci: needs a directory, as in oci:DIR[:TAG]", ErrBadReference, ref)
		}
		return Source{Kind: KindOCILayout, Path: p, Tag: tag}, nil
	case ok && prefix == "docker-archive":
		// As skopeo: the path ends at the first colon, the rest is a
		// docker reference that may itself hold one ("app:v1").
		p, tag, _ := strings.Cut(rest, ":")
		if p == "" {
			return Source{}, fmt.Errorf("%w %q: docker-archive: needs a file, as in docker-archive:FILE", ErrBadReference, ref)
		}
		return Source{Kind: KindDockerArchive, Path: p, Tag: tag}, nil
	case ok && prefix == "dir":
		if rest == "" {
			return Source{}, fmt.Errorf("%w %q: dir: needs a path, as in dir:PATH", ErrBadReference, ref)
		}
		return Source{Kind: KindDir, Path: rest}, nil
	case ok && (prefix == "http" || prefix == "https"):
		return Source{}, fmt.Errorf("%w %q: drop the URL scheme; use the insecure option for plain-HTTP registries", ErrBadReference, ref)
	case ok && (prefix == "docker" || prefix == "oci-archive" || prefix == "docker-daemon" || prefix == "podman"):
		return Source{}, fmt.Errorf("%w %q: transport %q is not supported (use a registry reference, oci:, docker-archive: or dir:)", ErrBadReference, ref, prefix)
	}
	if _, err := name.ParseReference(ref); err != nil {
		return Source{}, fmt.Errorf("%w %q: %w", ErrBadReference, ref, err)
	}
	return Source{Kind: KindRegistry, Ref: ref}, nil
}

// splitTag splits "path:tag" at the last colon when the part after it
// looks like a tag (no slash), so "oci:/tmp/x:v1" gives ("/tmp/x", "v1")
// and "oci:/tmp/x" gives ("/tmp/x", "").
func splitTag(s string) (path, tag string) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, ""
	}
	if t := s[i+1:]; t != "" && !strings.ContainsAny(t, `/\`) {
		return s[:i], t
	}
	return s, ""
}
