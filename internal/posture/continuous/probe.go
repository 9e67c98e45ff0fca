package continuous

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"k8s.io/client-go/rest"

	"github.com/palisade-sec/palisade/internal/posture"
)

// The rule IDs of the endpoint checks (internal/posture/checks), which
// judge what ProbeEndpoint found.
const (
	RuleAnonymousAccess = posture.RulePrefix + "anonymous-api-access"
	RuleAnonymousAuth   = posture.RulePrefix + "anonymous-auth-enabled"
	RulePublicEndpoint  = posture.RulePrefix + "public-api-endpoint"
)

// Resolver looks up a host's addresses; *net.Resolver is one. Tests swap
// it so that no probe leaves the machine.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// ProbeEndpoint gathers what the endpoint checks judge about the API
// server at cfg.Host: the answer to an unauthenticated request and the
// addresses of its host (looked up with r; nil is net.DefaultResolver).
// Both `palisade serve` and `posture scan --kubeconfig` call it before
// scanning. Each part that fails is left empty and its error returned with
// the rest, so one failure does not hide the other's result.
func ProbeEndpoint(ctx context.Context, cfg *rest.Config, r Resolver) (*posture.EndpointProbe, error) {
	p := &posture.EndpointProbe{URL: cfg.Host}
	var errs []error
	status, err := probeAnonymous(ctx, cfg)
	if err != nil {
		errs = append(errs, err)
	}
	p.AnonymousStatus = status
	addrs, err := endpointAddresses(ctx, cfg.Host, r)
	if err != nil {
		errs = append(errs, err)
	}
	p.Addresses = addrs
	return p, errors.Join(errs...)
}

// probeAnonymous asks the API server, without credentials, for something
// only an authorized user may read, and returns the HTTP status: 401 means
// anonymous authentication is off (CIS 1.2.1); 403 means it is on but RBAC
// refuses (worth knowing, not alarming: /healthz and /version need it on
// some distributions); 200 means anyone who reaches the endpoint can read
// the cluster.
func probeAnonymous(ctx context.Context, cfg *rest.Config) (int, error) {
	anon := rest.AnonymousClientConfig(cfg)
	anon.Timeout = 10 * time.Second
	client, err := rest.HTTPClientFor(anon)
	if err != nil {
		return 0, fmt.Errorf("build anonymous client: %w", err)
	}
	u, err := url.JoinPath(cfg.Host, "/api/v1/namespaces")
	if err != nil {
		return 0, fmt.Errorf("API server URL %q: %w", cfg.Host, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"?limit=1", nil)
	if err != nil {
		return 0, fmt.Errorf("anonymous probe of %s: %w", cfg.Host, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("anonymous probe of %s: %w", cfg.Host, err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// endpointAddresses returns the IP addresses of host's URL: the address
// itself, or what its name resolves to.
func endpointAddresses(ctx context.Context, host string, r Resolver) ([]string, error) {
	u, err := url.Parse(host)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("API server URL %q: no host", host)
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil {
		return []string{ip.String()}, nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupIPAddr(rctx, u.Hostname())
	if err != nil {
		return nil, fmt.Errorf("resolve API server %s: %w", u.Hostname(), err)
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.IP.String()
	}
	return out, nil
}
