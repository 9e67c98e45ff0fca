package checks

// CIS Kubernetes Benchmark 5.5.1 (image provenance) and NSA/CISA "use
// immutable image references": an image named by a mutable tag can change
// under a running workload. ":latest" or no tag is medium; a fixed tag
// without a digest is low.

import (
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
		Versions: v1(func(in *posture.Input) []posture.Result {
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				ref := parseImage(c.Container.Image)
				path := cpath(in, c, "image")
				name := "Container " + c.Container.Name + " image " + c.Container.Image
				switch {
				case c.Container.Image == "":
					return nil // an incomplete manifest; nothing to pin
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
				}
				return []posture.Result{{Path: path, Severity: finding.SeverityLow, Message: name + " has a tag but no digest.", Evidence: []finding.Evidence{key("problem", "no-digest")}}}
			})
		}),
	}
}
