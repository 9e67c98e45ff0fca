package checks

// NSA/CISA Kubernetes Hardening Guide, "Network separation and hardening":
// limit what is reachable from outside the cluster. MITRE ATT&CK T1190
// (Exploit Public-Facing Application). A LoadBalancer or NodePort Service,
// or externalIPs (also CVE-2020-8554), exposes pods beyond the cluster.

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// ServiceExposed reports Services reachable from outside the cluster.
func ServiceExposed() posture.Check {
	return posture.Check{
		ID:          "service-exposed",
		Title:       "Service is exposed outside the cluster",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "network",
		Rationale:   "LoadBalancer, NodePort and externalIPs Services accept traffic from outside the cluster, often from the internet.",
		Remediation: "Use ClusterIP behind an Ingress or gateway with TLS and authentication; restrict loadBalancerSourceRanges; do not set externalIPs.",
		Scope:       posture.ScopeObject,
		Kinds:       []string{"Service"},
		Versions: v1(func(in *posture.Input) []posture.Result {
			svc, ok := in.Object.Typed.(*corev1.Service)
			if !ok {
				return nil
			}
			var out []posture.Result
			switch svc.Spec.Type {
			case corev1.ServiceTypeLoadBalancer:
				sev := finding.SeverityMedium
				msg := "Service " + svc.Name + " is of type LoadBalancer"
				if len(svc.Spec.LoadBalancerSourceRanges) == 0 {
					msg += " with no loadBalancerSourceRanges"
				} else {
					sev = finding.SeverityLow
					msg += " restricted to " + strings.Join(svc.Spec.LoadBalancerSourceRanges, ",")
				}
				out = append(out, posture.Result{Path: []string{"spec", "type"}, Severity: sev, Message: msg + ".",
					Evidence: []finding.Evidence{key("exposure", "LoadBalancer")}})
			case corev1.ServiceTypeNodePort:
				out = append(out, posture.Result{Path: []string{"spec", "type"}, Message: "Service " + svc.Name + " is of type NodePort: it listens on every node.",
					Evidence: []finding.Evidence{key("exposure", "NodePort")}})
			}
			if len(svc.Spec.ExternalIPs) > 0 {
				out = append(out, posture.Result{Path: []string{"spec", "externalIPs"}, Severity: finding.SeverityHigh,
					Message:  "Service " + svc.Name + " sets externalIPs " + strings.Join(svc.Spec.ExternalIPs, ",") + " (CVE-2020-8554 lets such Services intercept traffic).",
					Evidence: []finding.Evidence{key("exposure", "externalIPs")}})
			}
			return out
		}),
	}
}
