package checks

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// v1 wraps the first behaviour of a check.
func v1(eval func(*posture.Input) []posture.Result) []posture.Versioned {
	return []posture.Versioned{{MinVersion: 1, Eval: eval}}
}

// eachContainer calls f for every container of the input's workload and
// collects the results, filling container, image and path.
func eachContainer(in *posture.Input, f func(c kube.ContainerRef) []posture.Result) []posture.Result {
	var out []posture.Result
	for c := range in.Workload.Containers() {
		rs := f(c)
		for i := range rs {
			if rs[i].Container == "" {
				rs[i].Container = c.Container.Name
			}
			if rs[i].Image == "" {
				rs[i].Image = c.Container.Image
			}
		}
		// f's results are its own: the first container's with any are
		// kept as they are, not copied (most workloads have one).
		if out == nil {
			out = rs
		} else {
			out = append(out, rs...)
		}
	}
	return out
}

// cpath returns the path from the object's root to field of container c.
func cpath(in *posture.Input, c kube.ContainerRef, field ...string) []string {
	// spath(in, c.Path(field...)...) in one allocation: results of container
	// checks are the bulk of a scan's findings. A live object has no lines
	// for a path to find.
	if !in.Workload.Object.HasLines() {
		return nil
	}
	p := make([]string, 0, len(in.Workload.SpecPath)+2+len(field))
	return c.AppendPath(append(p, in.Workload.SpecPath...), field...)
}

// spath returns the path from the object's root to field of the pod spec.
func spath(in *posture.Input, field ...string) []string {
	if !in.Workload.Object.HasLines() {
		return nil
	}
	p := make([]string, 0, len(in.Workload.SpecPath)+len(field))
	p = append(p, in.Workload.SpecPath...)
	return append(p, field...)
}

func ev(name, value string) finding.Evidence { return finding.Evidence{Name: name, Value: value} }

func key(name, value string) finding.Evidence {
	return finding.Evidence{Name: name, Value: value, Key: true}
}

// podSC returns the pod security context, never nil.
func podSC(s *corev1.PodSpec) *corev1.PodSecurityContext {
	if s.SecurityContext == nil {
		return &corev1.PodSecurityContext{}
	}
	return s.SecurityContext
}

// containerSC returns the container security context, never nil.
func containerSC(c *corev1.Container) *corev1.SecurityContext {
	if c.SecurityContext == nil {
		return &corev1.SecurityContext{}
	}
	return c.SecurityContext
}

// isWindows reports whether the pod declares the Windows OS, where Linux
// user and capability settings do not apply.
func isWindows(s *corev1.PodSpec) bool {
	return s.OS != nil && strings.EqualFold(string(s.OS.Name), "windows")
}

// systemNamespace reports whether ns belongs to the control plane.
func systemNamespace(ns string) bool {
	return ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease"
}

func itoa(i int) string { return strconv.Itoa(i) }

func ruleEvidence(i int, rule rbacv1.PolicyRule) []finding.Evidence {
	return []finding.Evidence{
		key("rule", itoa(i)),
		ev("verbs", strings.Join(rule.Verbs, ",")),
		ev("resources", strings.Join(rule.Resources, ",")),
		ev("apiGroups", strings.Join(rule.APIGroups, ",")),
	}
}

// isSidecar reports whether init container c keeps running beside the
// others (restartPolicy Always).
func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}
