package checks

// Some registries still serve every image they hold but publish nothing
// new: an image pulled from one gets no security fix, ever, and its CVEs
// only grow. Kubescape's rule-identify-old-k8s-registry reports the first
// below; the table is dated so a reader can tell what it knew.
//
//   - k8s.gcr.io, and gcr.io/google-containers (google_containers) behind
//     it: frozen on 2023-04-03; Kubernetes publishes to registry.k8s.io
//     ("k8s.gcr.io Image Registry Will Be Frozen From the 3rd of April
//     2023", kubernetes.io blog, 2023-02-06).
//   - docker.io/bitnamilegacy: Bitnami moved its public catalog there on
//     2025-08-28, to "receive no further updates, security patches, or bug
//     fixes"; maintained images are Bitnami Secure's (bitnamisecure) or
//     the projects' own.

import (
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// frozenRegistry is a repository prefix that no longer receives images.
type frozenRegistry struct {
	prefix    string // normalized repository prefix, ending in "/"
	since     string // the date it stopped receiving images
	successor string // where maintained images are published
}

var frozenRegistries = []frozenRegistry{
	{"k8s.gcr.io/", "2023-04-03", "registry.k8s.io"},
	{"gcr.io/google-containers/", "2023-04-03", "registry.k8s.io"},
	{"gcr.io/google_containers/", "2023-04-03", "registry.k8s.io"},
	{"docker.io/bitnamilegacy/", "2025-08-28", "the project's own images or Bitnami Secure Images"},
}

// frozenRegistryOf returns the frozen registry repo (normalized, as
// parseImage returns it) comes from.
func frozenRegistryOf(repo string) (frozenRegistry, bool) {
	for _, f := range frozenRegistries {
		if strings.HasPrefix(repo, f.prefix) {
			return f, true
		}
	}
	return frozenRegistry{}, false
}

// FrozenRegistry reports images from registries that no longer receive
// images.
func FrozenRegistry() posture.Check {
	return posture.Check{
		ID:          "frozen-registry",
		Title:       "Image comes from a frozen registry",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "A frozen registry publishes no new images: vulnerabilities found after the freeze are never fixed there.",
		Remediation: "Pull the image from the registry that replaced it (registry.k8s.io for k8s.gcr.io) and move to a maintained version.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{{MinVersion: 9, Eval: func(in *posture.Input) []posture.Result {
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				repo := parseImage(c.Container.Image).Repo
				f, ok := frozenRegistryOf(repo)
				if !ok {
					return nil
				}
				registry := strings.TrimSuffix(f.prefix, "/")
				return []posture.Result{{Path: cpath(in, c, "image"),
					Message: "Container " + c.Container.Name + " image " + repo + " comes from " + registry +
						", which has received no images since " + f.since + "; use " + f.successor + " instead.",
					Evidence: []finding.Evidence{key("registry", registry), {Name: "frozen-since", Value: f.since}}}}
			})
		}}},
	}
}
