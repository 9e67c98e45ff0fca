package checks

// IngressNightmare (CVE-2025-24514, CVE-2025-1097, CVE-2025-1098, fixed in
// ingress-nginx 1.11.5 / 1.12.1): the controller pasted the values of a few
// annotations into nginx.conf without quoting, so anyone who may create an
// Ingress could end a directive (";", "}") or a line and add their own,
// which runs in the controller pod that reads every Secret of the cluster.
// A patched controller rejects such values, but an unpatched one (or a fork)
// still renders them, and the value itself has no legitimate reason to hold
// these characters, so the Ingress is reported whatever the controller.
//
// What counts as offending:
//   - in every judged annotation, characters that end or open an nginx
//     token or block: ";", "{", "}", quotes, backslash, backtick, and any
//     control character (newline, CR, tab ...);
//   - in the URL-valued ones (auth-url, mirror-target, mirror-host) also
//     characters RFC 3986 does not allow in a URL at all (space, "|", "<",
//     ">", "^"): the peer fixtures use "|" as the invalid-URL example, and
//     ingress-nginx's own fix rejects URLs its parser would not accept.
//     "$" stays allowed: auth-url documents nginx variables ($host).
//   - auth-tls-match-cn is a regex ("CN=(a|b)" is the documented way to
//     allow several names), so "|", "(", ")" are allowed there.

import (
	"fmt"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// nginxAnnotationPrefix is ingress-nginx's default --annotations-prefix.
const nginxAnnotationPrefix = "nginx.ingress.kubernetes.io/"

// nginxInjectable lists the annotations IngressNightmare injected through,
// in report order, and whether their value is a URL.
func nginxInjectable() []struct {
	name string
	url  bool
} {
	return []struct {
		name string
		url  bool
	}{{"auth-tls-match-cn", false}, {"auth-url", true}, {"mirror-host", true}, {"mirror-target", true}}
}

// IngressNginxInjection reports ingress-nginx annotations whose values can
// inject nginx configuration.
func IngressNginxInjection() posture.Check {
	return posture.Check{
		ID:       "ingress-nginx-injection",
		Title:    "ingress-nginx annotation can inject nginx configuration",
		Level:    posture.LevelBaseline,
		Severity: finding.SeverityHigh,
		Category: "network",
		Rationale: "ingress-nginx before 1.11.5 / 1.12.1 copies auth-url, auth-tls-match-cn, mirror-target and mirror-host into nginx.conf unquoted (IngressNightmare); " +
			"a value with ';', '}' or a newline adds directives that run in the controller, which can read every Secret in the cluster.",
		Remediation: "Remove the characters from the annotation value (a URL needs none of them; percent-encode if a path does), upgrade ingress-nginx to 1.12.1 or later, and restrict who may create Ingresses.",
		Scope:       posture.ScopeObject,
		Kinds:       []string{"Ingress"},
		// New in behaviour version 4: scans pinned to 1–3 leave it out.
		Versions: []posture.Versioned{{MinVersion: 4, Eval: ingressNginxInjection}},
	}
}

func ingressNginxInjection(in *posture.Input) []posture.Result {
	var out []posture.Result
	for _, a := range nginxInjectable() {
		full := nginxAnnotationPrefix + a.name
		v, ok := in.Object.Meta.Annotations[full]
		if !ok {
			continue
		}
		bad := nginxOffending(v, a.url)
		if len(bad) == 0 {
			continue
		}
		out = append(out, posture.Result{
			Path:     []string{"metadata", "annotations", full},
			Message:  fmt.Sprintf("Ingress %s: annotation %s holds %s, characters that can end an nginx directive or are not allowed in the value.", in.Object.Meta.Name, full, strings.Join(bad, ", ")),
			Evidence: []finding.Evidence{key("annotation", full)},
		})
	}
	return out
}

// nginxOffending lists, once each and in order of appearance, the
// characters of v that can inject nginx configuration, quoted so that
// control characters are readable ("\n").
func nginxOffending(v string, url bool) []string {
	var bad []string
	seen := map[rune]bool{}
	for _, r := range v {
		if seen[r] || !nginxUnsafe(r, url) {
			continue
		}
		seen[r] = true
		bad = append(bad, fmt.Sprintf("%q", r))
	}
	return bad
}

func nginxUnsafe(r rune, url bool) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return true
	case strings.ContainsRune(";{}\"'\\`", r):
		return true
	case url && strings.ContainsRune(" |<>^", r):
		return true
	}
	return false
}
