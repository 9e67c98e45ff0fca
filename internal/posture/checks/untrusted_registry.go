package checks

// CIS Kubernetes Benchmark 5.5.1: "Configure Image Provenance ... Ensure
// that all container images are from trusted registries." The trusted
// registries are config's registries.trusted; with none configured every
// registry is trusted and the check reports nothing.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// UntrustedRegistry reports images from registries the configuration does
// not trust.
func UntrustedRegistry() posture.Check {
	return posture.Check{
		ID:          "untrusted-registry",
		Title:       "Image comes from an untrusted registry",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "workload",
		Rationale:   "Images from registries outside your control were not built, scanned or approved by you.",
		Remediation: "Mirror the image into a trusted registry, or add its repository to registries.trusted after review.",
		Scope:       posture.ScopeWorkload,
		Versions: v1(func(in *posture.Input) []posture.Result {
			if len(in.Options.Registries.Trusted) == 0 {
				return nil
			}
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				if c.Container.Image == "" {
					return nil
				}
				repo := parseImage(c.Container.Image).Repo
				if in.Options.Registries.IsTrusted(repo) {
					return nil
				}
				return []posture.Result{{Path: cpath(in, c, "image"),
					Message:  "Container " + c.Container.Name + " image " + repo + " is not from a trusted registry.",
					Evidence: []finding.Evidence{key("repository", repo)}}}
			})
		}),
	}
}
