package checks

// CIS Kubernetes Benchmark 5.2.7: "Minimize the admission of root
// containers. Do not generally permit containers to be run as the root
// user." NSA/CISA hardening guide: "Use containers built to run
// applications as non-root users."
//
// Pod- and container-level securityContext are combined as the kubelet
// combines them: a container's runAsUser / runAsNonRoot override the pod's,
// field by field. A manifest cannot show the image's USER, so a container
// with neither runAsNonRoot: true nor a non-zero runAsUser at either level is
// "not proven non-root" (medium), not "root" (high).
//
// Version 2: a container that runs as a non-root user but with runAsGroup 0
// (root's group) is reported too (medium): files of group root, which
// images often make group-writable for arbitrary UIDs, are its own.
// kube-linter run-as-non-root and Kubescape non-root-containers count it.

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RunAsRoot reports containers that run, or may run, as root.
func RunAsRoot() posture.Check {
	return posture.Check{
		ID:          "run-as-root",
		Title:       "Container may run as root",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "Root in a container is root on the node as soon as any isolation fails.",
		Remediation: "Set securityContext.runAsNonRoot: true and a non-zero runAsUser (pod or container level), and build the image with a non-root USER.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: func(in *posture.Input) []posture.Result {
				if isWindows(in.Workload.PodSpec) {
					return nil
				}
				return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
					return runAsRoot(in, c)
				})
			}},
			{MinVersion: 2, Eval: func(in *posture.Input) []posture.Result {
				if isWindows(in.Workload.PodSpec) {
					return nil
				}
				return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
					if rs := runAsRoot(in, c); rs != nil {
						return rs
					}
					return rootGroup(in, c)
				})
			}},
		},
	}
}

// effectiveUser returns the container's runAsUser and runAsNonRoot after
// inheritance, and the path of the field that set runAsUser.
func effectiveUser(pod *corev1.PodSpec, c *corev1.Container) (user *int64, nonRoot *bool, userAt string) {
	psc, csc := podSC(pod), containerSC(c)
	user, userAt = psc.RunAsUser, "pod"
	if csc.RunAsUser != nil {
		user, userAt = csc.RunAsUser, "container"
	}
	nonRoot = psc.RunAsNonRoot
	if csc.RunAsNonRoot != nil {
		nonRoot = csc.RunAsNonRoot
	}
	return user, nonRoot, userAt
}

func runAsRoot(in *posture.Input, c kube.ContainerRef) []posture.Result {
	user, nonRoot, userAt := effectiveUser(in.Workload.PodSpec, c.Container)
	name := c.Container.Name
	userPath := cpath(in, c, "securityContext", "runAsUser")
	if userAt == "pod" {
		userPath = spath(in, "securityContext", "runAsUser")
	}
	switch {
	case user != nil && *user == 0:
		msg := "Container " + name + " runs as UID 0 (runAsUser: 0 set at " + userAt + " level)."
		if nonRoot != nil && *nonRoot {
			msg = "Container " + name + " sets runAsUser: 0 and runAsNonRoot: true; the kubelet will refuse to start it."
		}
		return []posture.Result{{Path: userPath, Severity: finding.SeverityHigh, Message: msg,
			Evidence: []finding.Evidence{key("verdict", "root"), ev("runAsUser", "0")}}}
	case user != nil:
		return nil // a non-zero UID is non-root whatever the image says
	case nonRoot != nil && *nonRoot:
		return nil // the kubelet refuses to start the container as root
	case nonRoot != nil:
		return []posture.Result{{Path: cpath(in, c, "securityContext"), Severity: finding.SeverityHigh,
			Message:  "Container " + name + " sets runAsNonRoot: false and no non-zero runAsUser; it runs as root unless the image's USER says otherwise.",
			Evidence: []finding.Evidence{key("verdict", "root-allowed"), ev("runAsNonRoot", strconv.FormatBool(*nonRoot))}}}
	}
	return []posture.Result{{Path: cpath(in, c), Severity: finding.SeverityMedium,
		Message:  "Container " + name + " is not proven non-root: neither runAsNonRoot: true nor a non-zero runAsUser is set at pod or container level, and the image's USER is unknown from a manifest.",
		Evidence: []finding.Evidence{key("verdict", "not-proven-non-root")}}}
}

// rootGroup reports a container whose effective runAsGroup is 0.
func rootGroup(in *posture.Input, c kube.ContainerRef) []posture.Result {
	psc, csc := podSC(in.Workload.PodSpec), containerSC(c.Container)
	group, path := psc.RunAsGroup, spath(in, "securityContext", "runAsGroup")
	if csc.RunAsGroup != nil {
		group, path = csc.RunAsGroup, cpath(in, c, "securityContext", "runAsGroup")
	}
	if group == nil || *group != 0 {
		return nil
	}
	return []posture.Result{{Path: path, Severity: finding.SeverityMedium,
		Message:  "Container " + c.Container.Name + " runs as a non-root user but with runAsGroup: 0, root's group.",
		Evidence: []finding.Evidence{key("verdict", "root-group"), ev("runAsGroup", "0")}}}
}
