package checks_test

import (
	"github.com/palisade-sec/palisade/internal/posture"
)

// fixtureEndpoints are what probing the API endpoint found, per fixture of
// the endpoint checks (anonymous-api-access, anonymous-auth-enabled,
// public-api-endpoint): a manifest cannot carry it. Fixtures not listed
// are scanned as manifests, unprobed.
var fixtureEndpoints = map[string]*posture.EndpointProbe{
	"testdata/anonymous_api_access/fail/anonymous_reads.yaml":   {URL: "https://10.0.0.1:6443", AnonymousStatus: 200, Addresses: []string{"10.0.0.1"}},
	"testdata/anonymous_api_access/pass/anonymous_refused.yaml": {URL: "https://10.0.0.1:6443", AnonymousStatus: 403, Addresses: []string{"10.0.0.1"}},
	"testdata/anonymous_api_access/pass/anonymous_off.yaml":     {URL: "https://10.0.0.1:6443", AnonymousStatus: 401, Addresses: []string{"10.0.0.1"}},

	"testdata/anonymous_auth_enabled/fail/anonymous_refused.yaml": {URL: "https://k8s.example.com", AnonymousStatus: 403, Addresses: []string{"192.168.10.5"}},
	"testdata/anonymous_auth_enabled/pass/anonymous_off.yaml":     {URL: "https://k8s.example.com", AnonymousStatus: 401, Addresses: []string{"192.168.10.5"}},
	// 200 is anonymous-api-access's, the critical case; not reported twice.
	"testdata/anonymous_auth_enabled/pass/anonymous_reads.yaml": {URL: "https://k8s.example.com", AnonymousStatus: 200, Addresses: []string{"192.168.10.5"}},

	"testdata/public_api_endpoint/fail/public_ip.yaml":      {URL: "https://34.118.2.10", AnonymousStatus: 401, Addresses: []string{"34.118.2.10"}},
	"testdata/public_api_endpoint/fail/name_resolves.yaml":  {URL: "https://ABCD.gr7.eu-west-1.eks.amazonaws.com", AnonymousStatus: 401, Addresses: []string{"10.20.0.4", "52.95.110.1"}},
	"testdata/public_api_endpoint/pass/private.yaml":        {URL: "https://api.internal:6443", AnonymousStatus: 401, Addresses: []string{"10.20.0.4", "100.64.1.2", "fd00::1"}},
	"testdata/public_api_endpoint/pass/resolve_failed.yaml": {URL: "https://api.internal:6443", AnonymousStatus: 401},
}
