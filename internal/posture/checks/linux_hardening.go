package checks

// NSA/CISA Kubernetes Hardening Guide, "Kubernetes Pod security": "use a
// security feature such as AppArmor, seccomp or SELinux" and drop the
// capabilities a container does not need. A container is hardened when at
// least one of these confines it: a seccomp profile (RuntimeDefault or
// Localhost; the container's own wins over the pod's), an AppArmor profile
// (field or the beta annotation, other than unconfined), SELinux options
// with some label set, or dropped capabilities without adding ALL back.
// pss-restricted asks for seccomp specifically; this check asks for any
// confinement at all, the weaker floor the NSA guide sets.

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// LinuxHardening reports containers that no Linux security module,
// seccomp profile or capability drop confines.
func LinuxHardening() posture.Check {
	return posture.Check{
		ID:          "linux-hardening",
		Title:       "Container has no Linux hardening",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "With no seccomp or AppArmor profile, no SELinux label and every default capability, the container's processes can reach the whole kernel interface the runtime allows.",
		Remediation: "Set securityContext.seccompProfile.type: RuntimeDefault on the pod, and drop ALL capabilities in each container.",
		Scope:       posture.ScopeWorkload,
		Versions:    []posture.Versioned{{MinVersion: 4, Eval: linuxHardening}},
	}
}

func linuxHardening(in *posture.Input) []posture.Result {
	s := in.Workload.PodSpec
	if isWindows(s) {
		return nil
	}
	return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
		sc := containerSC(c.Container)
		seccomp := seccompType(podSC(s).SeccompProfile, sc.SeccompProfile)
		if confiningSeccomp(seccomp) ||
			appArmorConfined(in.Workload.PodMeta.Annotations, c.Container.Name, podSC(s).AppArmorProfile, sc.AppArmorProfile) ||
			seLinuxSet(podSC(s).SELinuxOptions) || seLinuxSet(sc.SELinuxOptions) ||
			dropsCapabilities(sc.Capabilities) {
			return nil
		}
		if seccomp == "" {
			seccomp = "unset"
		}
		return []posture.Result{{Path: cpath(in, c, "securityContext"),
			Message:  "Container " + c.Container.Name + " is confined by no seccomp or AppArmor profile, SELinux label or capability drop.",
			Evidence: []finding.Evidence{key("hardening", "none"), ev("seccomp", seccomp)}}}
	})
}

// seccompType returns the seccomp profile type in effect for a container:
// its own, else the pod's, else "".
func seccompType(pod, container *corev1.SeccompProfile) string {
	switch {
	case container != nil && container.Type != "":
		return string(container.Type)
	case pod != nil:
		return string(pod.Type)
	}
	return ""
}

func confiningSeccomp(t string) bool {
	return t == string(corev1.SeccompProfileTypeRuntimeDefault) || t == string(corev1.SeccompProfileTypeLocalhost)
}

// appArmorConfined reports whether the container runs under an AppArmor
// profile. The beta annotation is still honoured by the kubelet when the
// field is absent, so either counts; the container's field wins over the
// pod's.
func appArmorConfined(annotations map[string]string, name string, pod, container *corev1.AppArmorProfile) bool {
	switch {
	case container != nil && container.Type != "":
		return container.Type != corev1.AppArmorProfileTypeUnconfined
	case pod != nil && pod.Type != "":
		return pod.Type != corev1.AppArmorProfileTypeUnconfined
	}
	v, ok := annotations[corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+name]
	return ok && v != "" && v != corev1.DeprecatedAppArmorBetaProfileNameUnconfined
}

// seLinuxSet reports whether SELinux options set a label: an empty
// seLinuxOptions leaves the runtime's default, which is no choice at all.
func seLinuxSet(o *corev1.SELinuxOptions) bool {
	return o != nil && (o.User != "" || o.Role != "" || o.Type != "" || o.Level != "")
}

// dropsCapabilities reports whether the container drops some capability
// and does not add ALL back, which would undo any drop.
func dropsCapabilities(c *corev1.Capabilities) bool {
	if c == nil || len(c.Drop) == 0 {
		return false
	}
	for _, a := range c.Add {
		if strings.EqualFold(string(a), "ALL") {
			return false
		}
	}
	return true
}
