package checks

// CIS Kubernetes Benchmark 5.2.12: "Minimize the admission of HostPath
// volumes. Do not generally admit containers which make use of hostPath
// volumes." Mounting a container runtime socket or a system directory is
// reported at high or critical severity, any other hostPath at medium.
// Evidence readOnly=false says a container can write to the node through
// it (kube-linter writable-host-mount, Kubescape alert-rw-hostpath).

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// runtimeSockets give whoever can reach them control of every container on
// the node.
var runtimeSockets = []string{
	"/var/run/docker.sock", "/run/docker.sock", "/var/run/containerd/containerd.sock",
	"/run/containerd/containerd.sock", "/var/run/crio/crio.sock", "/run/crio/crio.sock",
	"/var/run/cri-dockerd.sock", "/run/k3s/containerd/containerd.sock", "/var/run/dockershim.sock",
}

// sensitiveDirs hold node credentials, configuration or kernel interfaces.
var sensitiveDirs = []string{
	"/", "/etc", "/var/run", "/run", "/proc", "/sys", "/dev", "/boot", "/root", "/home",
	"/var/lib/kubelet", "/var/lib/docker", "/var/lib/containerd", "/var/lib/etcd",
	"/etc/kubernetes", "/var/log", "/usr", "/lib", "/bin", "/sbin", "/var/lib/rancher",
}

// classifyHostPath returns the severity and a word for a host path, as
// version 1 rated it: "/" only high, although it holds every socket.
func classifyHostPath(p string) (finding.Severity, string) {
	clean := path.Clean("/" + strings.TrimSpace(p))
	for _, s := range runtimeSockets {
		if clean == s || strings.HasPrefix(s, clean+"/") || clean == path.Dir(s) {
			return finding.SeverityCritical, "container runtime socket"
		}
	}
	return classifySensitiveDir(clean)
}

// classifyHostPathV6 rates a path at least as severe as the worst path
// under it: a directory that contains a runtime socket, "/" included, is
// critical, since mounting it mounts the socket. Its class stays
// "container runtime socket" (what peer mappings narrow on); the message
// calls it a directory.
func classifyHostPathV6(p string) (finding.Severity, string) {
	clean := path.Clean("/" + strings.TrimSpace(p))
	for _, s := range runtimeSockets {
		if clean == s || clean == "/" || strings.HasPrefix(s, clean+"/") {
			return finding.SeverityCritical, "container runtime socket"
		}
	}
	return classifySensitiveDir(clean)
}

// socketDir says, from version 6, that a critical path is a directory
// holding runtime sockets rather than a socket.
func socketDir(p string) bool {
	clean := path.Clean("/" + strings.TrimSpace(p))
	return !slices.Contains(runtimeSockets, clean)
}

// classifySensitiveDir rates a cleaned path that reaches no runtime socket.
func classifySensitiveDir(clean string) (finding.Severity, string) {
	for _, d := range sensitiveDirs {
		if clean == d || (d != "/" && strings.HasPrefix(clean, d+"/")) {
			return finding.SeverityHigh, "sensitive host path"
		}
	}
	return finding.SeverityMedium, "host path"
}

// HostPath reports hostPath volumes, most severe for runtime sockets and
// system directories.
func HostPath() posture.Check {
	return posture.Check{
		ID:          "host-path",
		Title:       "Pod mounts a host path",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "A hostPath volume reaches the node's filesystem; runtime sockets and system directories give control of the node.",
		Remediation: "Use persistentVolumeClaim, configMap, secret or emptyDir volumes instead; if a node agent needs the host, isolate it in its own namespace.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: hostPaths(classifyHostPath, nil)},
			// Version 6 rates "/" critical like the socket directories it
			// contains (version 1: high).
			{MinVersion: 6, Eval: hostPaths(classifyHostPathV6, socketDir)},
		},
	}
}

// hostPaths returns host-path's evaluation with classify rating each path;
// dir, when set, tells a directory of sockets from a socket for the message.
func hostPaths(classify func(string) (finding.Severity, string), dir func(string) bool) func(in *posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		var out []posture.Result
		for i, v := range in.Workload.PodSpec.Volumes {
			if v.HostPath == nil {
				continue
			}
			sev, what := classify(v.HostPath.Path)
			mounts := what + " " + v.HostPath.Path + " from the node"
			if sev == finding.SeverityCritical && dir != nil && dir(v.HostPath.Path) {
				mounts = v.HostPath.Path + " from the node, a directory that holds container runtime sockets"
				if path.Clean("/"+strings.TrimSpace(v.HostPath.Path)) == "/" {
					mounts = "the node's whole filesystem (" + v.HostPath.Path + "), container runtime sockets included"
				}
			}
			mounted, writable := hostPathMounts(in, v.Name)
			var access string
			switch {
			case writable:
				access = " (writable)."
			case !mounted:
				access = " (no container mounts it)."
			case sev == finding.SeverityCritical:
				// Connecting to a socket ignores a read-only mount.
				access = " (read-only, which does not stop connecting to a socket)."
			default:
				access = " (read-only)."
			}
			out = append(out, posture.Result{
				Path:     spath(in, "volumes", itoa(i), "hostPath", "path"),
				Severity: sev,
				Message:  "Volume " + v.Name + " mounts " + mounts + access,
				Evidence: []finding.Evidence{key("hostPath", v.HostPath.Path), ev("class", what), ev("readOnly", strconv.FormatBool(!writable))},
			})
		}
		return out
	}
}

// hostPathMounts reports whether a container of the workload mounts volume
// name, and whether one mounts it without readOnly: the hostPath is
// writable unless every mount of it is read-only.
func hostPathMounts(in *posture.Input, name string) (mounted, writable bool) {
	for _, c := range in.Workload.AllContainers() {
		for _, m := range c.Container.VolumeMounts {
			if m.Name == name {
				mounted = true
				writable = writable || !m.ReadOnly
			}
		}
	}
	return mounted, writable
}
