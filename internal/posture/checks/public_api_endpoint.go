package checks

// NSA/CISA Kubernetes Hardening Guide, "Network separation and hardening":
// the control plane should not be reachable from the internet. The API
// server's address — or one its host name resolves to — is a public IP.
// The name is resolved before the scan (continuous.ProbeEndpoint); the
// check only classifies the addresses, so it stays pure.

import (
	"net"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// PublicAPIEndpoint reports clusters whose API server has a public address.
func PublicAPIEndpoint() posture.Check {
	return posture.Check{
		ID:       "public-api-endpoint",
		Title:    "The API server endpoint is public",
		Level:    posture.LevelBaseline,
		Severity: finding.SeverityHigh,
		Category: "exposure",
		Rationale: "A public API endpoint can be reached by anyone on the internet: every authentication weakness, " +
			"leaked credential or API server vulnerability is then exploitable from anywhere.",
		Remediation: "Make the endpoint private or restrict it to authorized networks: EKS endpointPrivateAccess with " +
			"endpointPublicAccess off (or publicAccessCidrs), GKE private endpoint or master authorized networks, AKS " +
			"private cluster or authorized IP ranges; self-managed: a private load balancer or firewall rules.",
		Scope:    posture.ScopeInventory,
		Versions: []posture.Versioned{{MinVersion: 6, Eval: publicAPIEndpoint}},
	}
}

func publicAPIEndpoint(in *posture.Input) []posture.Result {
	p := in.Options.Cluster.Endpoint
	if p == nil {
		return nil
	}
	for _, a := range p.Addresses {
		if ip := net.ParseIP(a); ip != nil && isPublicIP(ip) {
			return []posture.Result{endpointResult(in, posture.Result{
				Message:  "The API server " + p.URL + " is at the public address " + a + ".",
				Evidence: []finding.Evidence{key("url", p.URL), ev("address", a)},
			})}
		}
	}
	return nil
}

// isPublicIP reports whether ip is routable on the internet: not loopback,
// private (RFC 1918, ULA), link-local, multicast, unspecified or RFC 6598
// carrier-grade NAT (used by some VPCs).
func isPublicIP(ip net.IP) bool {
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
		return false
	}
	if v4 := ip.To4(); v4 != nil && v4[0] == 100 && v4[1]&0xc0 == 64 {
		return false
	}
	return true
}
