package continuous

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/finding"
)

// Exposure is a critical property of a cluster found by probing it rather
// than by reading its objects.
type Exposure struct {
	RuleID   string
	Severity finding.Severity
	Title    string
	Message  string
}

// The probe rule IDs.
const (
	RuleAnonymousAccess = "posture/anonymous-api-access"
	RuleAnonymousAuth   = "posture/anonymous-auth-enabled"
	RulePublicEndpoint  = "posture/public-api-endpoint"
)

// probeAnonymous asks the API server, without credentials, for something
// only an authorized user may read. 401 means anonymous authentication is
// off (CIS 1.2.1); 403 means it is on but RBAC refuses (worth knowing, not
// alarming: /healthz and /version need it on some distributions); 200 means
// anyone who reaches the endpoint can read the cluster.
func probeAnonymous(ctx context.Context, cfg *rest.Config) (*Exposure, error) {
	anon := rest.AnonymousClientConfig(cfg)
	anon.Timeout = 10 * time.Second
	client, err := rest.HTTPClientFor(anon)
	if err != nil {
		return nil, fmt.Errorf("build anonymous client: %w", err)
	}
	u, err := url.JoinPath(cfg.Host, "/api/v1/namespaces")
	if err != nil {
		return nil, fmt.Errorf("API server URL %q: %w", cfg.Host, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"?limit=1", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("anonymous probe of %s: %w", cfg.Host, err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return &Exposure{RuleID: RuleAnonymousAccess, Severity: finding.SeverityCritical, Title: "Anonymous users can read the cluster",
			Message: "An unauthenticated request listed namespaces: anonymous authentication is on and RBAC grants system:anonymous or system:unauthenticated more than public information. Anyone who reaches the API endpoint can read it."}, nil
	case http.StatusForbidden:
		return &Exposure{RuleID: RuleAnonymousAuth, Severity: finding.SeverityMedium, Title: "Anonymous authentication is enabled",
			Message: "The API server accepts unauthenticated requests (they are refused by RBAC today): a single binding to system:anonymous would open the cluster. Set --anonymous-auth=false or restrict it to health endpoints (CIS 1.2.1)."}, nil
	}
	return nil, nil
}

// probeEndpoint reports an API server whose address is a public IP (or a
// name that resolves to one).
func probeEndpoint(ctx context.Context, host string) (*Exposure, error) {
	u, err := url.Parse(host)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("API server URL %q: no host", host)
	}
	var ips []net.IP
	if ip := net.ParseIP(u.Hostname()); ip != nil {
		ips = []net.IP{ip}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupIPAddr(rctx, u.Hostname())
		if err != nil {
			return nil, fmt.Errorf("resolve API server %s: %w", u.Hostname(), err)
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	for _, ip := range ips {
		if isPublic(ip) {
			return &Exposure{RuleID: RulePublicEndpoint, Severity: finding.SeverityHigh, Title: "The API server endpoint is public",
				Message: fmt.Sprintf("The API server %s is at the public address %s. Restrict it to private networks or authorized CIDRs (EKS endpointPublicAccess/publicAccessCidrs, GKE master authorized networks, AKS authorized IP ranges).", u.Hostname(), ip)}, nil
		}
	}
	return nil, nil
}

// isPublic reports whether ip is routable on the internet.
func isPublic(ip net.IP) bool {
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
		return false
	}
	// RFC 6598 carrier-grade NAT, used by some VPCs.
	if v4 := ip.To4(); v4 != nil && v4[0] == 100 && v4[1]&0xc0 == 64 {
		return false
	}
	return true
}
