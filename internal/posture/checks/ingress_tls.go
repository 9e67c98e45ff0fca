package checks

// NSA/CISA Kubernetes Hardening Guide: "encrypt traffic ... use TLS for
// all traffic entering the cluster." An Ingress without a tls section
// serves plain HTTP.

import (
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// IngressTLS reports Ingresses without TLS.
func IngressTLS() posture.Check {
	return posture.Check{
		ID:          "ingress-tls",
		Title:       "Ingress serves without TLS",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "network",
		Rationale:   "Without TLS, credentials and data crossing the Ingress can be read and changed in transit.",
		Remediation: "Add spec.tls with a certificate for every host (cert-manager can issue them).",
		Scope:       posture.ScopeObject,
		Kinds:       []string{"Ingress"},
		Versions: v1(func(in *posture.Input) []posture.Result {
			ing, ok := in.Object.Typed.(*networkingv1.Ingress)
			if !ok || len(ing.Spec.TLS) > 0 {
				return nil
			}
			return []posture.Result{{Path: []string{"spec"},
				Message:  "Ingress " + ing.Name + " has no spec.tls.",
				Evidence: []finding.Evidence{key("tls", "none")}}}
		}),
	}
}
