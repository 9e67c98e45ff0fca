package posture

import (
	"sort"

	"github.com/palisade-sec/palisade/internal/finding"
)

// ImageVulns tells checks what image scans found in the images containers
// run, so that a workload is judged with its image's vulnerabilities
// (vulnerable-image, exposed-vulnerable-workload). It is an interface so
// that posture does not depend on how the scans were loaded (report files,
// the store): package imagevulns implements it.
type ImageVulns interface {
	// Lookup returns the scan of the image a container runs. image is the
	// container's image field; imageID is the pod status's imageID for
	// the container ("docker-pullable://repo@sha256:…", "repo@sha256:…"),
	// "" when unknown (manifests, templates). Lookup is safe for
	// concurrent use.
	Lookup(image, imageID string) (ImageMatch, bool)
}

// How an ImageMatch was made.
const (
	// MatchDigest: a digest of the container's image (in its reference or
	// its imageID) is a digest the scan recorded. The scan is of the very
	// image the container runs.
	MatchDigest = "digest"
	// MatchTag: only the normalized tag reference matches. The tag may have
	// moved since the scan, so the scan may be of another build.
	MatchTag = "tag"
)

// ImageMatch is the scan found for a container.
type ImageMatch struct {
	Scan *ImageScan
	// MatchedBy is MatchDigest or MatchTag.
	MatchedBy string
	// Digest is the digest matched; for a tag match the scan's digest.
	Digest string
	// Running is, for a tag match, the digest the container is known to
	// run (from its imageID) when it differs from the scan's: the tag moved.
	Running string
}

// ImageScan is what checks need of one image scan: its open
// vulnerabilities, worst first, and their counts. Build it with
// NewImageScan so the counts and the order hold.
type ImageScan struct {
	// Ref is the reference that was scanned (the report's target).
	Ref string
	// Digest is the platform image's manifest digest; IndexDigest the
	// multi-arch index's, when the scan was of an index by digest.
	Digest      string
	IndexDigest string
	// Partial says the scan did not complete: vulnerabilities may be missing.
	Partial bool
	// Counts counts Vulns by severity; Fixable those with a fixed version.
	Counts  finding.SeverityCounts
	Fixable finding.SeverityCounts
	// Vulns are the open vulnerabilities, most severe first, then
	// network-exploitable first, then by ID and package.
	Vulns []ImageVuln
}

// ImageVuln is one open vulnerability of an image's package.
type ImageVuln struct {
	ID           string // advisory ID: CVE-…, GHSA-…, PYSEC-…
	Package      string
	Version      string
	FixedVersion string // "" when no fix is known
	Severity     finding.Severity
	// Network says the vulnerability is exploitable over the network: its
	// CVSS vector says AV:N. Without a vector it is false.
	Network bool
}

// NewImageScan returns the scan of ref with vulns, sorted and counted.
func NewImageScan(ref, digest, indexDigest string, partial bool, vulns []ImageVuln) *ImageScan {
	s := &ImageScan{Ref: ref, Digest: digest, IndexDigest: indexDigest, Partial: partial, Vulns: vulns}
	sort.SliceStable(s.Vulns, func(i, j int) bool {
		a, b := &s.Vulns[i], &s.Vulns[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Network != b.Network {
			return a.Network
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Package < b.Package
	})
	for _, v := range s.Vulns {
		addCount(&s.Counts, v.Severity)
		if v.FixedVersion != "" {
			addCount(&s.Fixable, v.Severity)
		}
	}
	return s
}

func addCount(c *finding.SeverityCounts, s finding.Severity) {
	switch s {
	case finding.SeverityCritical:
		c.Critical++
	case finding.SeverityHigh:
		c.High++
	case finding.SeverityMedium:
		c.Medium++
	case finding.SeverityLow:
		c.Low++
	case finding.SeverityInfo:
		c.Info++
	default:
		c.Unknown++
	}
}
