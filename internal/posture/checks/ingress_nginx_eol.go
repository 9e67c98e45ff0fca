package checks

// The Kubernetes project retired ingress-nginx (announced by SIG Network and
// the Security Response Committee in November 2025; best-effort maintenance
// ended in March 2026): no release, including security fixes, comes after
// that, for any version. The controller holds a service account that reads
// every Secret and faces the internet, which is where IngressNightmare
// struck, so running it at all is reported, not only old versions.
// Recognised by the image repository path the project published under
// (registry.k8s.io and k8s.gcr.io, and mirrors that keep the path):
// ".../ingress-nginx/controller" and its "-chroot" variant. F5's NGINX
// Ingress Controller (nginx/nginx-ingress) is a different, maintained
// project and is not matched; neither is a name ("nginx-ingress-controller")
// without the image.

import (
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// IngressNginxEOL reports workloads running the retired ingress-nginx
// controller.
func IngressNginxEOL() posture.Check {
	return posture.Check{
		ID:       "ingress-nginx-eol",
		Title:    "Workload runs the retired ingress-nginx controller",
		Level:    posture.LevelBaseline,
		Severity: finding.SeverityMedium,
		Category: "workload",
		Rationale: "ingress-nginx was retired in March 2026: its next vulnerability will not be fixed, " +
			"and the controller is internet-facing with a service account that reads every Secret.",
		Remediation: "Migrate to a maintained Ingress or Gateway API controller (the Gateway API ingress2gateway tool converts Ingress resources).",
		Scope:       posture.ScopeWorkload,
		// New in behaviour version 4: scans pinned to 1–3 leave it out.
		Versions: []posture.Versioned{{MinVersion: 4, Eval: func(in *posture.Input) []posture.Result {
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				repo := parseImage(c.Container.Image).Repo
				if !isIngressNginxController(repo) {
					return nil
				}
				return []posture.Result{{Path: cpath(in, c, "image"),
					Message:  "Container " + c.Container.Name + " runs " + repo + ", the retired ingress-nginx controller.",
					Evidence: []finding.Evidence{key("repository", repo)}}}
			})
		}}},
	}
}

func isIngressNginxController(repo string) bool {
	return strings.HasSuffix(repo, "/ingress-nginx/controller") || strings.HasSuffix(repo, "/ingress-nginx/controller-chroot")
}
