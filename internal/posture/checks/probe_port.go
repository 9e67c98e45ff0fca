package checks

// A probe's httpGet or tcpSocket port may name a port of its container
// instead of giving a number. The kubelet resolves the name among the
// container's ports; when none has it, every probe fails ("unable to find
// port"): a liveness probe then restarts the container forever, a
// readiness probe keeps it out of its Services, a startup probe does both.
// A name that resolves to a UDP port sends the TCP or HTTP probe where
// nothing listens for it. A numeric port need not be listed in ports
// (that list is informational), so it is not judged — where kube-linter's
// liveness-port, readiness-port and startup-port also fire.

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// ProbePort reports probes naming a port their container does not declare
// for TCP.
func ProbePort() posture.Check {
	return posture.Check{
		ID:          "probe-port",
		Title:       "Probe names a port its container does not declare",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "The kubelet cannot resolve a probe's named port that the container does not declare, so the probe always fails: a liveness probe restarts the container forever, a readiness probe keeps it out of its Services.",
		Remediation: "Declare the port, with that name and protocol TCP, in the container's ports, or give the probe the port number.",
		Scope:       posture.ScopeWorkload,
		Versions:    []posture.Versioned{{MinVersion: 8, Eval: evalProbePort}}, // new in version 8
	}
}

func evalProbePort(in *posture.Input) []posture.Result {
	return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
		var out []posture.Result
		for _, p := range []struct {
			field string
			probe *corev1.Probe
		}{{"livenessProbe", c.Container.LivenessProbe}, {"readinessProbe", c.Container.ReadinessProbe}, {"startupProbe", c.Container.StartupProbe}} {
			if p.probe == nil {
				continue
			}
			var port intstr.IntOrString
			var handler string
			switch {
			case p.probe.HTTPGet != nil:
				port, handler = p.probe.HTTPGet.Port, "httpGet"
			case p.probe.TCPSocket != nil:
				port, handler = p.probe.TCPSocket.Port, "tcpSocket"
			default:
				continue
			}
			if port.Type != intstr.String || port.StrVal == "" {
				continue
			}
			var problem, msg string
			switch proto, ok := namedPort(c.Container, port.StrVal); {
			case !ok:
				problem, msg = "undeclared", "the container declares no port of that name, so the probe always fails"
			case proto != corev1.ProtocolTCP:
				problem, msg = "protocol", "that port is "+string(proto)+", where the "+handler+" probe's TCP connection finds nothing"
			default:
				continue
			}
			out = append(out, posture.Result{Path: cpath(in, c, p.field, handler, "port"),
				Message:  "Container " + c.Container.Name + ": " + p.field + " uses port " + port.StrVal + ", but " + msg + ".",
				Evidence: []finding.Evidence{key("probe", p.field), key("port", port.StrVal), ev("problem", problem)}})
		}
		return out
	})
}

// namedPort returns the protocol of c's port called name.
func namedPort(c *corev1.Container, name string) (corev1.Protocol, bool) {
	for _, p := range c.Ports {
		if p.Name == name {
			if p.Protocol == "" {
				return corev1.ProtocolTCP, true
			}
			return p.Protocol, true
		}
	}
	return "", false
}
