package continuous

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"k8s.io/client-go/rest"
)

// fakeResolver answers from a map, so no test leaves the machine.
type fakeResolver map[string][]string

func (r fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	ips, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []net.IPAddr
	for _, ip := range ips {
		out = append(out, net.IPAddr{IP: net.ParseIP(ip)})
	}
	return out, nil
}

func TestEndpointAddresses(t *testing.T) {
	r := fakeResolver{
		"abcd.gr7.eu-west-1.eks.amazonaws.com": {"10.20.0.4", "52.95.110.1"},
		"api.internal":                         {"10.0.0.7"},
	}
	for _, tc := range []struct {
		name, host string
		want       []string
		err        bool
	}{
		{name: "public name", host: "https://abcd.gr7.eu-west-1.eks.amazonaws.com", want: []string{"10.20.0.4", "52.95.110.1"}},
		{name: "private name with port", host: "https://api.internal:6443", want: []string{"10.0.0.7"}},
		{name: "address", host: "https://34.118.2.10:443", want: []string{"34.118.2.10"}},
		{name: "IPv6 address", host: "https://[2600:1f18::1]:6443", want: []string{"2600:1f18::1"}},
		{name: "unknown name", host: "https://gone.example", err: true},
		{name: "no host", host: "https://", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := endpointAddresses(t.Context(), tc.host, r)
			if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
				t.Errorf("endpointAddresses(%s) = %v, %v; want %v, error %v", tc.host, got, err, tc.want, tc.err)
			}
		})
	}
}

// TestProbeEndpoint: the anonymous request's status and the addresses are
// gathered independently, and a failure of one keeps the other.
func TestProbeEndpoint(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusForbidden, http.StatusUnauthorized} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" || r.URL.Path != "/api/v1/namespaces" {
				http.Error(w, "unexpected request", http.StatusTeapot)
				return
			}
			w.WriteHeader(status)
		}))
		p, err := ProbeEndpoint(t.Context(), &rest.Config{Host: srv.URL, BearerToken: "secret"}, fakeResolver{})
		srv.Close()
		if err != nil || p.AnonymousStatus != status || !slices.Equal(p.Addresses, []string{"127.0.0.1"}) {
			t.Errorf("status %d: got %+v, %v", status, p, err)
		}
	}
	// Nothing listens (a closed loopback port): the anonymous probe fails
	// and says so, the address is still known.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	p, err := ProbeEndpoint(t.Context(), &rest.Config{Host: closed}, fakeResolver{})
	if err == nil || p.AnonymousStatus != 0 || !slices.Equal(p.Addresses, []string{"127.0.0.1"}) || p.URL != closed {
		t.Errorf("closed endpoint: %+v, %v", p, err)
	}
}
