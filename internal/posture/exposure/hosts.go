package exposure

import "strings"

// hostsIntersect reports whether two host names, either of which may be a
// wildcard ("*", or "*.example.com" for any name below example.com), can
// name the same host: the Gateway API rule for a listener's and a route's
// hostnames, which Istio applies to a server's and a VirtualService's hosts.
func hostsIntersect(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if a == "*" || b == "*" || a == b {
		return true
	}
	return wildcardCovers(a, b) || wildcardCovers(b, a)
}

// wildcardCovers reports whether wildcard w ("*.example.com") covers host h:
// a name below its suffix, or a wildcard for a name below it.
func wildcardCovers(w, h string) bool {
	suffix, ok := strings.CutPrefix(w, "*")
	if !ok || !strings.HasPrefix(suffix, ".") {
		return false
	}
	return len(h) > len(suffix) && strings.HasSuffix(h, suffix)
}

// istioService returns the namespace and name of the Service an Istio
// destination host names, as Istio resolves it from a VirtualService in
// namespace ns: "name" (that namespace), "name.namespace",
// "name.namespace.svc" or "name.namespace.svc.<cluster domain>". ok is
// false for a wildcard, an empty name, or a host that cannot be a
// Service (a name outside the cluster, "api.example.com", is read as
// Service "api" in namespace "example" and so simply matches none).
func istioService(host, ns string) (svcNS, name string, ok bool) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || strings.Contains(host, "*") {
		return "", "", false
	}
	parts := strings.Split(host, ".")
	for _, p := range parts {
		if p == "" {
			return "", "", false
		}
	}
	switch {
	case len(parts) == 1:
		return ns, parts[0], true
	case len(parts) == 2:
		return parts[1], parts[0], true
	case parts[2] == "svc":
		return parts[1], parts[0], true
	}
	return "", "", false
}

// istioServerHost splits an Istio Gateway server host, "[namespace/]host",
// into the namespace its VirtualServices must be in ("" for any: none or
// "*"; "." is the Gateway's, gwNS) and the host.
func istioServerHost(h, gwNS string) (ns, host string) {
	ns, host, ok := strings.Cut(h, "/")
	if !ok {
		return "", h
	}
	switch ns {
	case "*":
		return "", host
	case ".":
		return gwNS, host
	}
	return ns, host
}
