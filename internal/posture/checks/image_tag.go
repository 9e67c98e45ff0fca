package checks

// CIS Kubernetes Benchmark 5.5.1 (image provenance) and NSA/CISA "use
// immutable image references": an image named by a mutable tag can change
// under a running workload. ":latest" or no tag is medium, as is a tag of
// registries.floatingTags ("dev", "nightly"); a fixed tag without a digest
// is low.

import (
	"regexp"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// ImageTag reports images referenced by :latest, by no tag, or without a digest.
func ImageTag() posture.Check {
	return posture.Check{
		ID:          "image-tag",
		Title:       "Image is not pinned",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "A mutable reference can pull different code on every restart, and defeats scanning and admission decisions made on a digest.",
		Remediation: "Reference images by digest (name@sha256:…), or at least by a fixed version tag.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: func(in *posture.Input) []posture.Result { return imageTag(in, false) }},
			// Version 3 checks the digest's form: a malformed digest pins nothing.
			{MinVersion: 3, Eval: func(in *posture.Input) []posture.Result { return imageTag(in, true) }},
		},
	}
}

// imageTag reports the containers of in whose image is not pinned; with
// checkDigest, a digest that does not follow the OCI grammar counts as none.
func imageTag(in *posture.Input, checkDigest bool) []posture.Result {
	return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
		ref := parseImage(c.Container.Image)
		path := cpath(in, c, "image")
		name := "Container " + c.Container.Name + " image " + c.Container.Image
		switch {
		case c.Container.Image == "":
			return nil // an incomplete manifest; nothing to pin
		case ref.Digest != "" && checkDigest && !validDigest(ref.Digest):
			return []posture.Result{{Path: path, Message: name + " has a malformed digest: it pins nothing (and cannot be pulled).", Evidence: []finding.Evidence{key("problem", "invalid-digest")}}}
		case ref.Digest != "":
			return nil
		case ref.Tag == "":
			if in.Options.Registries.AllowLatest {
				return nil
			}
			return []posture.Result{{Path: path, Message: name + " has no tag (it means :latest).", Evidence: []finding.Evidence{key("problem", "no-tag")}}}
		case strings.EqualFold(ref.Tag, "latest"):
			if in.Options.Registries.AllowLatest {
				return nil
			}
			return []posture.Result{{Path: path, Message: name + " uses the :latest tag.", Evidence: []finding.Evidence{key("problem", "latest")}}}
		case in.Options.Registries.IsFloatingTag(ref.Tag):
			// Configured in registries.floatingTags: moved like latest.
			return []posture.Result{{Path: path, Message: name + " uses :" + ref.Tag + ", a floating tag (registries.floatingTags) moved to each new build.", Evidence: []finding.Evidence{key("problem", "floating-tag")}}}
		}
		return []posture.Result{{Path: path, Severity: finding.SeverityLow, Message: name + " has a tag but no digest.", Evidence: []finding.Evidence{key("problem", "no-digest")}}}
	})
}

// digestGrammar is the OCI image-spec digest grammar (descriptor.md):
// algorithm ":" encoded, algorithm = component (separator component)*.
var digestGrammar = regexp.MustCompile(`^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)

// validDigest reports whether d is a well-formed OCI digest: the generic
// grammar, and for a registered algorithm its exact length and lowercase
// hex (sha256:abc or sha256:ABC… name no content).
func validDigest(d string) bool {
	if !digestGrammar.MatchString(d) {
		return false
	}
	// The algorithms the OCI image-spec registers fix the encoded part:
	// lowercase hex of the hash's length.
	alg, enc, _ := strings.Cut(d, ":")
	var n int
	switch alg {
	case "sha256", "blake3":
		n = 64
	case "sha512":
		n = 128
	default:
		return true
	}
	return len(enc) == n && strings.Trim(enc, "0123456789abcdef") == ""
}
