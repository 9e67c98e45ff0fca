package checks

// Container ports that say something about the container's privileges or
// purpose. A port below 1024 can only be bound as root or with
// NET_BIND_SERVICE — unless the runtime sets the pod's
// net.ipv4.ip_unprivileged_port_start to 0, as containerd 2 does by
// default — so declaring one usually means the image was built to run as
// root (Trivy KSV117, kube-linter privileged-ports). Port 22 is SSH: an SSH
// server in a container is a second way in, with its own long-lived
// credentials, around kubectl exec, RBAC and the audit log (MITRE ATT&CK
// T1021.004, Remote Services: SSH); 2222 is the conventional port of
// unprivileged SSH servers (linuxserver/openssh-server, Gitea, GitLab).
// Declared ports are informational (a process may listen on any port), so
// this judges what the manifest says; service-ssh-port judges Services.

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// The class evidence values of container-ports and service-ssh-port.
const (
	portClassSSH          = "ssh"
	portClassSSHAlternate = "ssh-alternate"
	portClassPrivileged   = "privileged"
)

// sshPortClass returns the SSH class of a port number, protocol and name,
// "" when the port is not an SSH port. SSH runs over TCP only.
func sshPortClass(port int32, proto corev1.Protocol, name string) string {
	if proto != "" && proto != corev1.ProtocolTCP {
		return ""
	}
	switch {
	case port == 22 || strings.EqualFold(name, "ssh"):
		return portClassSSH
	case port == 2222:
		return portClassSSHAlternate
	}
	return ""
}

// ContainerPorts reports containers declaring a privileged (< 1024) or
// SSH port.
func ContainerPorts() posture.Check {
	return posture.Check{
		ID:          "container-ports",
		Title:       "Container declares a privileged or SSH port",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "workload",
		Rationale:   "A port below 1024 usually means the image runs as root or keeps NET_BIND_SERVICE to bind it; an SSH server in a container is a way in that bypasses kubectl exec, RBAC and audit logging.",
		Remediation: "Listen on a port of 1024 or above and map it in the Service (port: 80, targetPort: 8080); use kubectl exec or ephemeral debug containers instead of SSH.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{{MinVersion: 4, Eval: func(in *posture.Input) []posture.Result {
			// Windows has no privileged ports: any user may bind below 1024.
			windows := isWindows(in.Workload.PodSpec)
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				var out []posture.Result
				for i, p := range c.Container.Ports {
					port := strconv.Itoa(int(p.ContainerPort))
					proto := string(p.Protocol)
					if proto == "" {
						proto = string(corev1.ProtocolTCP)
					}
					r := posture.Result{
						Path:     cpath(in, c, "ports", itoa(i), "containerPort"),
						Evidence: []finding.Evidence{key("port", port+"/"+proto)},
					}
					pre := "Container " + c.Container.Name + " declares port " + port + "/" + proto
					switch class := sshPortClass(p.ContainerPort, p.Protocol, p.Name); {
					case class == portClassSSH:
						r.Severity = finding.SeverityMedium
						r.Message = pre + ", an SSH port."
						if p.ContainerPort != 22 {
							r.Message = pre + ", named " + p.Name + ": an SSH port."
						}
						r.Evidence = append(r.Evidence, ev("class", class))
					case class == portClassSSHAlternate:
						r.Message = pre + ", the usual port of unprivileged SSH servers."
						r.Evidence = append(r.Evidence, ev("class", class))
					case p.ContainerPort > 0 && p.ContainerPort < 1024 && !windows:
						r.Message = pre + ", a privileged port: binding it takes root or NET_BIND_SERVICE unless the runtime lowers net.ipv4.ip_unprivileged_port_start."
						r.Evidence = append(r.Evidence, ev("class", portClassPrivileged))
					default:
						continue
					}
					// Port 22 is both: the privileged evidence lets a peer's
					// privileged-ports question be asked of every class.
					if p.ContainerPort > 0 && p.ContainerPort < 1024 && !windows {
						r.Evidence = append(r.Evidence, ev("privileged", "true"))
					}
					out = append(out, r)
				}
				return out
			})
		}}},
	}
}
