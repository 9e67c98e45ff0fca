package checks

// CVE-2021-25742: an ingress-nginx snippet annotation is raw nginx
// configuration, pasted into the controller's nginx.conf. Whoever may create
// an Ingress can with it read files of the controller pod (its service
// account token, which may read every Secret of the cluster) or proxy to
// anything. ingress-nginx 1.9 turned snippet annotations off by default
// (allow-snippet-annotations: false), so a snippet found on an Ingress is
// either ignored or means an admin turned them back on for everyone; the
// Ingress cannot tell which, so it is reported at medium, naming the
// annotation, and left to the reader to check the controller's ConfigMap.

import (
	"fmt"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// nginxSnippetAnnotations are ingress-nginx's annotations whose value is
// nginx configuration, in report order.
func nginxSnippetAnnotations() []string {
	return []string{"auth-snippet", "configuration-snippet", "modsecurity-snippet", "server-snippet", "stream-snippet"}
}

// IngressNginxSnippets reports Ingresses carrying ingress-nginx snippet
// annotations.
func IngressNginxSnippets() posture.Check {
	return posture.Check{
		ID:       "ingress-nginx-snippets",
		Title:    "Ingress carries raw nginx configuration (snippet annotation)",
		Level:    posture.LevelBaseline,
		Severity: finding.SeverityMedium,
		Category: "network",
		Rationale: "A snippet annotation is pasted into the ingress-nginx controller's configuration (CVE-2021-25742): any Ingress author can read the controller's files, " +
			"including its service account token that reads every Secret, when allow-snippet-annotations is on.",
		Remediation: "Replace the snippet by the dedicated annotation or a controller-wide setting, and keep allow-snippet-annotations false in the controller ConfigMap (the default since ingress-nginx 1.9).",
		Scope:       posture.ScopeObject,
		Kinds:       []string{"Ingress"},
		// New in behaviour version 4: scans pinned to 1–3 leave it out.
		Versions: []posture.Versioned{{MinVersion: 4, Eval: ingressNginxSnippets}},
	}
}

func ingressNginxSnippets(in *posture.Input) []posture.Result {
	var out []posture.Result
	for _, n := range nginxSnippetAnnotations() {
		full := nginxAnnotationPrefix + n
		if _, ok := in.Object.Meta.Annotations[full]; !ok {
			continue
		}
		out = append(out, posture.Result{
			Path:     []string{"metadata", "annotations", full},
			Message:  fmt.Sprintf("Ingress %s: annotation %s puts raw nginx configuration into the ingress-nginx controller.", in.Object.Meta.Name, full),
			Evidence: []finding.Evidence{key("annotation", full)},
		})
	}
	return out
}
