package checks

// An Ingress backend or a Gateway API route's backendRef names a Service
// (and a port of it) in a namespace: the Ingress' own, the route's unless
// it names another. When that Service does not exist the controller
// answers 503 (Ingress) or 500 (Gateway API, ResolvedRefs=False), and
// whoever later creates a Service of that name in that namespace receives
// the traffic, TLS-terminated by the edge. A port the Service does not
// serve fails the same way; a route's reference into another namespace
// that no ReferenceGrant there allows is refused (RefNotPermitted).
// Resource backends (Ingress) and backendRefs of other kinds are not
// Services and are not judged. kube-linter dangling-ingress, Kubescape
// dangling-ingress-backend and dangling-gateway-backend.

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/exposure"
)

// DanglingBackend reports Ingress and Gateway API route backends naming a
// Service, or a Service port, that does not exist.
func DanglingBackend() posture.Check {
	return posture.Check{
		ID:          "dangling-backend",
		Title:       "Ingress or route backend names a missing Service or port",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "Traffic for a backend whose Service or port does not exist fails, and whoever later creates a Service of that name in that namespace receives it.",
		Remediation: "Point the backend at an existing Service and one of its ports (by number or name), in the same namespace, or for a route in another namespace add a ReferenceGrant there; remove backends no longer served.",
		Scope:       posture.ScopeInventory,
		Kinds:       []string{"Ingress", "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"},
		Needs:       []string{"Service"},
		Versions:    []posture.Versioned{{MinVersion: 8, Eval: evalDanglingBackend}}, // new in version 8
	}
}

func evalDanglingBackend(in *posture.Input) []posture.Result {
	var out []posture.Result
	for _, b := range exposure.Backends(in.Inventory) {
		what := b.From.Ref.Kind + " " + kube.QualifiedName(b.From.Ref.Namespace, b.From.Meta.Name)
		if b.From.Ref.Namespace == "" {
			what = b.From.Ref.Kind + " " + b.Namespace + "/" + b.From.Meta.Name
		}
		svc := b.Namespace + "/" + b.Name
		evs := []finding.Evidence{key("service", svc), key("port", b.Port()), ev("via", b.From.Ref.Kind)}
		var problem, msg string
		switch {
		case b.NotPermitted:
			problem, msg = "not-permitted", what+" sends traffic to Service "+svc+" in another namespace, which no ReferenceGrant there allows: the reference is refused."
		case b.Service == nil:
			problem, msg = "missing-service", what+" sends traffic to Service "+svc+", which does not exist "+scannedSet(b.From)+"."
		case b.Port() != "" && !servesPort(b.Service.Typed.(*corev1.Service), b.PortNumber, b.PortName):
			problem, msg = "missing-port", what+" sends traffic to port "+b.Port()+" of Service "+svc+", which does not serve it."
		default:
			continue
		}
		out = append(out, posture.Result{Object: b.From, Path: b.Path, Message: msg, Evidence: append(evs, ev("problem", problem))})
	}
	return out
}

// servesPort reports whether svc has a port of that number or name, or is
// an ExternalName alias, whose ports are the external host's.
func servesPort(svc *corev1.Service, number int32, name string) bool {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return true
	}
	for _, p := range svc.Spec.Ports {
		if (name != "" && p.Name == name) || (name == "" && p.Port == number) {
			return true
		}
	}
	return false
}
