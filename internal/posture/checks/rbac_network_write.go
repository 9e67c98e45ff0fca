package checks

// MITRE ATT&CK for Containers T1557 (Adversary-in-the-Middle) and NSA/CISA
// "Network separation and hardening". Whoever may write Services,
// Endpoints or EndpointSlices decides which pods receive a service's
// traffic, and a Service's externalIPs can capture traffic to any address
// (CVE-2020-8554); Ingresses and Gateway API routes steer traffic from
// outside; NetworkPolicies are the isolation between pods, and deleting or
// widening one removes it. Kubernetes took write access to Endpoints and
// EndpointSlices out of the built-in edit role for this reason
// (CVE-2021-25740). Trivy KSV056 "Manage Kubernetes networking".
//
// A rule limited by resourceNames is left out: it changes only the objects
// it names, the way a controller should manage its own.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACNetworkWrite reports roles that can change how traffic is routed or
// isolated.
func RBACNetworkWrite() posture.Check {
	unnamed := func(group string, resources ...string) grant {
		return grant{group: group, resources: resources, verbs: writeVerbs, anyName: true}
	}
	return posture.Check{
		ID:          "rbac-network-write",
		Title:       "Role can change service routing or network policies",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityMedium,
		Category:    "rbac",
		Rationale:   "Services, Endpoints, EndpointSlices, Ingresses and routes decide where traffic goes, so writing them intercepts it; deleting a NetworkPolicy removes the isolation between pods.",
		Remediation: "Grant write access to services, endpoints, endpointslices, ingresses, routes and networkpolicies only to the deployers and controllers that own them, limited to their namespaces or to named objects.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		// New in behaviour version 4: scans pinned to 1, 2 or 3 leave it out.
		Versions: rbacVersionsSince4(func(level exemption) func(*posture.Input) []posture.Result {
			return roleGrants("control of traffic routing or network isolation", level,
				unnamed("", "services", "endpoints"),
				unnamed("discovery.k8s.io", "endpointslices"),
				unnamed("networking.k8s.io", "networkpolicies", "ingresses"),
				// Served until 1.16 (NetworkPolicy) and 1.22 (Ingress);
				// roles written for old clusters still name it.
				unnamed("extensions", "networkpolicies", "ingresses"),
				unnamed("gateway.networking.k8s.io", "gateways", "httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes"),
			)
		}),
	}
}
