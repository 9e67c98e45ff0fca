package checks

// Components known to hand out cluster control when deployed:
//   - Helm v2's Tiller: an in-cluster gRPC server, usually bound to
//     cluster-admin, that installs whatever any pod able to reach port 44134
//     asks it to, without authentication unless TLS was set up by hand;
//     unsupported since November 2020. Listening on loopback only
//     (--listen=127.0.0.1:44134, reached through port-forward) removes the
//     network path but not the cluster-admin pod.
//   - The Kubernetes Dashboard: a web UI acting with its service account's
//     permissions, the way in of the 2018 Tesla cryptojacking through a
//     dashboard bound to cluster-admin and exposed without login.
// A component is recognised by its image repository, or by the labels its
// official manifests and charts set (app=helm with name=tiller;
// app, k8s-app or app.kubernetes.io/name = kubernetes-dashboard) — names
// alone ("tiller" in a Deployment name) are not enough. A workload that is
// not the dashboard but runs as its service account borrows the
// dashboard's permissions, and is reported too.

import (
	"net"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// The component evidence values.
const (
	componentTiller    = "tiller"
	componentDashboard = "kubernetes-dashboard"
)

// RiskyComponents reports Tiller and the Kubernetes Dashboard, and
// workloads running as the dashboard's service account.
func RiskyComponents() posture.Check {
	return posture.Check{
		ID:          "risky-components",
		Title:       "High-risk component deployed",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "workload",
		Rationale:   "Tiller and the Kubernetes Dashboard act with broad, often cluster-admin, permissions on behalf of whoever reaches them; both have been the way in of real cluster compromises.",
		Remediation: "Migrate to Helm 3 and delete Tiller with its service account and bindings; remove the Dashboard, or run it with a read-only service account behind authentication and never expose it.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{{MinVersion: 4, Eval: func(in *posture.Input) []posture.Result {
			w := in.Workload
			var out []posture.Result
			for _, c := range w.AllContainers() {
				comp := imageComponent(c.Container.Image)
				if comp == "" {
					continue
				}
				r := componentResult(comp, "image", []*corev1.Container{c.Container})
				r.Path = cpath(in, c, "image")
				out = append(out, r)
			}
			// Labels are the pod's, not a container's: one finding, and only
			// when no image said it already.
			if len(out) == 0 {
				if comp := labelComponent(w); comp != "" {
					var cs []*corev1.Container
					for i := range w.PodSpec.Containers {
						cs = append(cs, &w.PodSpec.Containers[i])
					}
					r := componentResult(comp, "labels", cs)
					r.Path = labelsPath(w)
					out = append(out, r)
				}
			}
			dashboard := slices.ContainsFunc(out, func(r posture.Result) bool { return r.Evidence[0].Value == componentDashboard })
			if sa := w.PodSpec.ServiceAccountName; !dashboard && dashboardServiceAccount(sa) {
				out = append(out, posture.Result{
					Path:     spath(in, "serviceAccountName"),
					Severity: finding.SeverityMedium,
					Message:  "The pod is not the Kubernetes Dashboard but runs as its service account " + sa + ", with the dashboard's permissions.",
					Evidence: []finding.Evidence{key("borrows", componentDashboard), ev("serviceAccount", sa)},
				})
			}
			return out
		}}},
	}
}

// componentResult is the finding for comp, known by signal, run by cs
// (one container for an image, the pod's containers for labels).
func componentResult(comp, signal string, cs []*corev1.Container) posture.Result {
	r := posture.Result{Evidence: []finding.Evidence{key("component", comp), ev("signal", signal)}}
	who := "The pod"
	if signal == "image" {
		who = "Container " + cs[0].Name
		r.Container, r.Image = cs[0].Name, cs[0].Image
	}
	by := " (by its " + signal + ")"
	switch comp {
	case componentTiller:
		listen := "loopback"
		for _, c := range cs {
			if tillerListen(c) == "all" {
				listen = "all"
			}
		}
		r.Evidence = append(r.Evidence, ev("listen", listen))
		r.Message = who + " runs Helm v2's Tiller" + by + ", "
		if listen == "loopback" {
			r.Message += "listening on loopback only."
		} else {
			r.Severity = finding.SeverityCritical
			r.Message += "listening on the pod network: any pod can ask it to install anything."
		}
	case componentDashboard:
		r.Message = who + " runs the Kubernetes Dashboard" + by + "."
	}
	return r
}

// imageComponent returns the risky component an image is, or "".
func imageComponent(image string) string {
	if strings.TrimSpace(image) == "" {
		return ""
	}
	repo := parseImage(image).Repo
	base := path.Base(repo)
	switch {
	case base == "tiller":
		return componentTiller
	case strings.HasPrefix(base, componentDashboard),
		repo == "docker.io/kubernetesui/dashboard", strings.HasPrefix(repo, "docker.io/kubernetesui/dashboard-"):
		return componentDashboard
	}
	return ""
}

// labelComponent returns the risky component the labels of the official
// manifests and charts say w is, or "".
func labelComponent(w *kube.Workload) string {
	for _, ls := range []map[string]string{w.PodMeta.Labels, w.Object.Meta.Labels} {
		switch {
		case ls["app"] == "helm" && ls["name"] == "tiller":
			return componentTiller
		case ls["app"] == componentDashboard || ls["k8s-app"] == componentDashboard || ls["app.kubernetes.io/name"] == componentDashboard:
			return componentDashboard
		}
	}
	return ""
}

// labelsPath is the path to the pod's labels: the template's, or the Pod's.
func labelsPath(w *kube.Workload) []string {
	p := w.SpecPath
	if n := len(p); n > 0 && p[n-1] == "spec" {
		p = p[:n-1]
	}
	return append(append([]string(nil), p...), "metadata", "labels")
}

// tillerListen is "loopback" when Tiller is told to listen on loopback
// only, "all" otherwise (its default, ":44134", is every address).
func tillerListen(c *corev1.Container) string {
	args := append(append([]string(nil), c.Command...), c.Args...)
	for i, a := range args {
		var addr string
		switch {
		case strings.HasPrefix(a, "--listen="), strings.HasPrefix(a, "-listen="):
			_, addr, _ = strings.Cut(a, "=")
		case (a == "--listen" || a == "-listen") && i+1 < len(args):
			addr = args[i+1]
		default:
			continue
		}
		host := addr
		if i := strings.LastIndex(addr, ":"); i >= 0 {
			host = addr[:i]
		}
		host = strings.Trim(host, "[]")
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return "loopback"
		}
		return "all"
	}
	return "all"
}

// dashboardServiceAccount reports whether sa is the service account the
// Dashboard's manifests ("kubernetes-dashboard") or its Helm v2 chart
// ("<release>-kubernetes-dashboard") create.
func dashboardServiceAccount(sa string) bool {
	return sa == componentDashboard || strings.HasSuffix(sa, "-"+componentDashboard)
}
