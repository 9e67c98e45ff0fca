package checks

// Polaris pullPolicyNotAlways, Checkov CKV_K8S_15, Kubescape C-0075: a
// container whose image is pulled only when the node lacks it runs
// whatever the node cached under that name. A tag is mutable: nodes that
// pulled it at different times run different code, a re-pushed fix never
// reaches a node that has the old one, and a registry-side revocation
// (a tag moved off a compromised build) is ignored.
//
// The policy judged is the one the API server stores: an unset
// imagePullPolicy is Always for the tag latest or no tag, else
// IfNotPresent (SetDefaults_Container), so an untagged image without the
// field passes. An image pinned by digest passes with IfNotPresent: the
// digest names the content, which no registry push can change. What
// IfNotPresent also allows — another pod on the node running a cached
// private image without that image's pull credentials — is not fixed by
// this pod's policy (the other pod sets its own) but cluster-wide, by the
// AlwaysPullImages admission plugin (CIS 1.2.11, control-plane-flags) or
// the kubelet's ensure-secret-pulled-images setting. Never is reported
// whatever the reference: the pod cannot start on a node that lacks the
// image, and runs a stale one where it has it.

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// ImagePullPolicy reports containers whose image may come from the node's
// cache instead of the registry.
func ImagePullPolicy() posture.Check {
	return posture.Check{
		ID:          "image-pull-policy",
		Title:       "Container may run a stale cached image",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "With IfNotPresent or Never a node runs whatever it cached under a mutable tag: replicas run different builds and a re-pushed fix never arrives.",
		Remediation: "Set imagePullPolicy: Always, or reference the image by digest (name@sha256:…).",
		Scope:       posture.ScopeWorkload,
		Versions: availabilityV8(func(in *posture.Input) []posture.Result {
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				image := c.Container.Image
				if image == "" {
					return nil
				}
				ref := parseImage(image)
				// The API server stores the default, so a live object
				// always declares its policy: only the message says
				// whether the manifest did.
				policy, declared := c.Container.ImagePullPolicy, true
				if policy == "" {
					policy, declared = defaultPullPolicy(ref), false
				}
				reference := "tag"
				switch {
				case ref.Digest != "":
					reference = "digest"
				case ref.Tag == "" || ref.Tag == "latest":
					reference = "latest"
				}
				switch {
				case policy == corev1.PullAlways:
					return nil
				case policy == corev1.PullIfNotPresent && reference == "digest":
					return nil
				}
				msg := "Container " + c.Container.Name + " pulls image " + image + " with " + string(policy)
				if !declared {
					msg += " (the default for a tagged image)"
				}
				if policy == corev1.PullNever {
					msg += ": it cannot start on a node that lacks the image, and runs whatever a node holds under that name."
				} else {
					msg += ": a node that cached the tag runs that build, not the registry's."
				}
				return []posture.Result{{
					Path:    cpath(in, c, "imagePullPolicy"),
					Message: msg,
					Evidence: []finding.Evidence{
						key("policy", string(policy)), ev("reference", reference),
					},
				}}
			})
		}),
	}
}

// defaultPullPolicy is the policy the API server stores for an unset
// imagePullPolicy: Always when the tag is latest or absent (an image
// with neither tag nor digest means :latest), else IfNotPresent.
func defaultPullPolicy(ref imageRef) corev1.PullPolicy {
	if ref.Tag == "latest" || (ref.Tag == "" && ref.Digest == "") {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}
