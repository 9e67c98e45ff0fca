// Package imagevulns joins image scan results to the containers that run
// the images: an Index of `palisade image scan` reports, keyed by digest
// (the platform manifest's, and a multi-arch index's when the scan was of
// one) and by normalized tag reference, answers posture.ImageVulns for the
// vulnerable-image and exposed-vulnerable-workload checks. Reports come
// from JSON files (LoadFiles) or from the store of `palisade serve`
// (FromScanRecords).
package imagevulns

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/palisade-sec/palisade/internal/image"
	"github.com/palisade-sec/palisade/internal/posture"
)

// Index holds image scans keyed so a container can be matched. Build it
// with New and Add (or a loader); once built, Lookup is safe for
// concurrent use.
type Index struct {
	byDigest map[string]*posture.ImageScan
	byTag    map[string]*posture.ImageScan // normalized "registry/repo:tag"
	scans    int
}

// New returns an empty index.
func New() *Index {
	return &Index{byDigest: map[string]*posture.ImageScan{}, byTag: map[string]*posture.ImageScan{}}
}

// Len returns how many scans were added.
func (x *Index) Len() int { return x.scans }

// Add indexes s by its digests and by its reference. A later scan of the
// same digest or tag replaces an earlier one, so add scans oldest first.
// It fails when s gives nothing to match a container by.
func (x *Index) Add(s *posture.ImageScan) error {
	keys := 0
	for _, d := range []string{s.Digest, s.IndexDigest} {
		if d = normDigest(d); d != "" {
			x.byDigest[d] = s
			keys++
		}
	}
	tag, digest := refKeys(s.Ref)
	if digest != "" {
		x.byDigest[digest] = s
		keys++
	}
	if tag != "" {
		x.byTag[tag] = s
		keys++
	}
	if keys == 0 {
		return fmt.Errorf("index scan of %q: no digest and no registry reference to match containers by", s.Ref)
	}
	x.scans++
	return nil
}

// Lookup implements posture.ImageVulns: a digest of the container's image
// reference or of its imageID matches first; else the normalized tag. An
// image pinned by digest is never matched by its tag: that digest was not
// scanned.
func (x *Index) Lookup(img, imageID string) (posture.ImageMatch, bool) {
	if x == nil {
		return posture.ImageMatch{}, false
	}
	tag, pinned := refKeys(img)
	running, repoDigest := imageIDDigest(imageID)
	for _, d := range []string{pinned, running} {
		if s := x.byDigest[d]; d != "" && s != nil {
			return posture.ImageMatch{Scan: s, MatchedBy: posture.MatchDigest, Digest: d}, true
		}
	}
	if pinned != "" || tag == "" {
		return posture.ImageMatch{}, false
	}
	s := x.byTag[tag]
	if s == nil {
		return posture.ImageMatch{}, false
	}
	m := posture.ImageMatch{Scan: s, MatchedBy: posture.MatchTag, Digest: s.Digest}
	if repoDigest && running != normDigest(s.Digest) && running != normDigest(s.IndexDigest) {
		m.Running = running
	}
	return m, true
}

// refKeys returns the normalized tag reference ("index.docker.io/library/
// nginx:1.2") of a registry reference by tag, or the digest of one by
// digest; nothing for references that do not parse or name no registry
// image (oci:, dir:). A docker-archive's image reference counts as a tag.
func refKeys(ref string) (tag, digest string) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", ""
	}
	if src, err := image.ParseSource(ref); err == nil {
		switch src.Kind {
		case image.KindRegistry:
			ref = src.Ref
		case image.KindDockerArchive:
			if src.Tag == "" {
				return "", ""
			}
			ref = src.Tag
		default:
			return "", ""
		}
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", ""
	}
	switch r := r.(type) {
	case name.Digest:
		return "", normDigest(r.DigestStr())
	case name.Tag:
		return r.Name(), ""
	}
	return "", ""
}

// imageIDDigest returns the digest of a pod status imageID, and whether it
// is a repository (manifest) digest: "docker-pullable://repo@sha256:…"
// (dockershim) and "repo@sha256:…" (containerd, CRI-O) are; a bare
// "sha256:…" or "docker://sha256:…" is the image configuration's digest on
// some runtimes. Such a digest matches no scan's manifest digest, which is
// right, and says nothing about whether a tag moved.
func imageIDDigest(id string) (string, bool) {
	id = strings.TrimSpace(id)
	if i := strings.Index(id, "://"); i >= 0 {
		id = id[i+3:]
	}
	repo := false
	if i := strings.LastIndexByte(id, '@'); i >= 0 {
		id, repo = id[i+1:], true
	}
	d := normDigest(id)
	return d, repo && d != ""
}

// normDigest returns d when it looks like "algorithm:hex", else "".
func normDigest(d string) string {
	d = strings.TrimSpace(d)
	alg, enc, ok := strings.Cut(d, ":")
	if !ok || alg == "" || enc == "" || strings.ContainsAny(d, "/@ ") {
		return ""
	}
	return strings.ToLower(d)
}

var _ posture.ImageVulns = (*Index)(nil)
