package exposure

import (
	"strings"
	"testing"
)

func TestHostsIntersect(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"*", "shop.example.com", true},
		{"shop.example.com", "Shop.Example.com", true},
		{"*.example.com", "shop.example.com", true},
		{"*.example.com", "a.b.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "*.b.example.com", true},
		{"*.example.com", "*.example.org", false},
		{"shop.example.com", "api.example.com", false},
		{"*example.com", "shop.example.com", false},
	} {
		if got := hostsIntersect(tc.a, tc.b); got != tc.want {
			t.Errorf("hostsIntersect(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := hostsIntersect(tc.b, tc.a); got != tc.want {
			t.Errorf("hostsIntersect(%q, %q) = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestIstioService(t *testing.T) {
	for _, tc := range []struct {
		host, ns, wantNS, wantName string
		ok                         bool
	}{
		{"web", "shop", "shop", "web", true},
		{"web.other", "shop", "other", "web", true},
		{"web.other.svc", "shop", "other", "web", true},
		{"web.other.svc.cluster.local", "shop", "other", "web", true},
		{"web.other.svc.corp.internal.", "shop", "other", "web", true},
		{"api.example.com", "shop", "", "", false},
		{"*.shop.svc.cluster.local", "shop", "", "", false},
		{"web..svc", "shop", "", "", false},
		{"", "shop", "", "", false},
	} {
		ns, name, ok := istioService(tc.host, tc.ns)
		if ns != tc.wantNS || name != tc.wantName || ok != tc.ok {
			t.Errorf("istioService(%q, %q) = %q, %q, %v; want %q, %q, %v", tc.host, tc.ns, ns, name, ok, tc.wantNS, tc.wantName, tc.ok)
		}
	}
}

func TestIstioServerHost(t *testing.T) {
	for _, tc := range []struct{ in, ns, host string }{
		{"shop.example.com", "", "shop.example.com"},
		{"*/shop.example.com", "", "shop.example.com"},
		{"./shop.example.com", "infra", "shop.example.com"},
		{"shop/*", "shop", "*"},
	} {
		if ns, host := istioServerHost(tc.in, "infra"); ns != tc.ns || host != tc.host {
			t.Errorf("istioServerHost(%q) = %q, %q; want %q, %q", tc.in, ns, host, tc.ns, tc.host)
		}
	}
}

// FuzzHosts checks that the host parsers never panic, that a resolved
// Service has a name and namespace without dots or wildcards, and that
// hostsIntersect is symmetric.
func FuzzHosts(f *testing.F) {
	for _, s := range []string{"web", "web.shop.svc.cluster.local", "*.example.com", "*/a.b", "./x", "..", ".", "*", "a.b.svc."} {
		f.Add(s, "shop.example.com")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if hostsIntersect(a, b) != hostsIntersect(b, a) {
			t.Errorf("hostsIntersect(%q, %q) is not symmetric", a, b)
		}
		if ns, name, ok := istioService(a, "shop"); ok {
			for _, s := range []string{ns, name} {
				if s == "" || strings.ContainsAny(s, ".*") {
					t.Errorf("istioService(%q) = %q, %q", a, ns, name)
				}
			}
		}
		istioServerHost(a, "infra")
	})
}
