package checks

// A Service offering SSH (port or targetPort 22, a port named "ssh", or
// 2222, the usual port of unprivileged SSH servers) makes pods reachable by
// SSH: a way in around kubectl exec, RBAC and the audit log, with its own
// long-lived credentials (MITRE ATT&CK T1021.004, Remote Services: SSH;
// Kubescape C-0042). Reachable from outside the cluster (LoadBalancer,
// NodePort, externalIPs) it is an Internet-facing SSH server. The finding
// is on the Service, which is what exposes the port; it names the
// workloads of the inventory the Service selects.

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// ServiceSSHPort reports Services that offer an SSH port.
func ServiceSSHPort() posture.Check {
	return posture.Check{
		ID:          "service-ssh-port",
		Title:       "Service exposes an SSH port",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "exposure",
		Rationale:   "SSH into a pod bypasses kubectl exec, RBAC and audit logging, and relies on keys or passwords that outlive the pod.",
		Remediation: "Remove the SSH port from the Service and the SSH server from the image; use kubectl exec or ephemeral debug containers.",
		Scope:       posture.ScopeObject,
		Kinds:       []string{"Service"},
		Versions: []posture.Versioned{{MinVersion: 4, Eval: func(in *posture.Input) []posture.Result {
			svc, ok := in.Object.Typed.(*corev1.Service)
			if !ok {
				return nil
			}
			var out []posture.Result
			for i, p := range svc.Spec.Ports {
				// The stronger of the port's and the target's class: 22 over
				// 2222 over none.
				class, field := sshPortClass(p.Port, p.Protocol, p.Name), "port"
				switch tc := targetSSHClass(p); {
				case tc == portClassSSH && class != portClassSSH, tc != "" && class == "":
					class, field = tc, "targetPort"
				}
				if class == "" {
					continue
				}
				sev := finding.SeverityMedium
				if class == portClassSSHAlternate {
					sev = finding.SeverityLow
				}
				port := strconv.Itoa(int(p.Port))
				msg := "Service " + in.Object.Ref.Name + " port " + port
				if p.TargetPort.String() != "0" && p.TargetPort.String() != port {
					msg += " (target " + p.TargetPort.String() + ")"
				}
				if class == portClassSSH {
					msg += " is an SSH port"
				} else {
					msg += " is the usual port of unprivileged SSH servers"
				}
				if outside := outsideExposure(svc); outside != "" {
					sev = finding.SeverityHigh
					msg += ", reachable from outside the cluster (" + outside + ")"
				}
				if wls := selectedWorkloads(in, svc); len(wls) > 0 {
					if len(wls) > maxNamed {
						wls = append(wls[:maxNamed], "and "+itoa(len(wls)-maxNamed)+" more")
					}
					msg += ", to " + strings.Join(wls, ", ")
				}
				out = append(out, posture.Result{
					Path:     []string{"spec", "ports", itoa(i), field},
					Severity: sev,
					Message:  msg + ".",
					Evidence: []finding.Evidence{key("port", port), ev("class", class)},
				})
			}
			return out
		}}},
	}
}

// maxNamed is how many selected workloads a message names.
const maxNamed = 5

// targetSSHClass returns the SSH class of a Service port's target.
func targetSSHClass(p corev1.ServicePort) string {
	if p.TargetPort.Type == intstr.String {
		return sshPortClass(0, p.Protocol, p.TargetPort.StrVal)
	}
	return sshPortClass(p.TargetPort.IntVal, p.Protocol, "")
}

// outsideExposure says how svc is reachable from outside the cluster, ""
// when it is not by itself.
func outsideExposure(svc *corev1.Service) string {
	switch {
	case svc.Spec.Type == corev1.ServiceTypeLoadBalancer || svc.Spec.Type == corev1.ServiceTypeNodePort:
		return string(svc.Spec.Type)
	case len(svc.Spec.ExternalIPs) > 0:
		return "externalIPs"
	}
	return ""
}

// selectedWorkloads names the workloads of the inventory svc selects, as
// "Kind/name". Only Services with an SSH port get here, so a scan over
// every workload stays rare.
func selectedWorkloads(in *posture.Input, svc *corev1.Service) []string {
	if len(svc.Spec.Selector) == 0 || in.Inventory == nil {
		return nil
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var out []string
	for _, w := range in.Inventory.Workloads {
		if w.Object.Meta.Namespace == in.Object.Meta.Namespace && sel.Matches(labels.Set(w.PodMeta.Labels)) {
			out = append(out, w.Object.Ref.Kind+"/"+w.Object.Ref.Name)
		}
	}
	return out
}
