package checks

// MITRE ATT&CK T1190 (Exploit Public-Facing Application) and Kubescape's
// C-0021 "Exposed sensitive interfaces": some applications are, by design,
// a console that runs code or reads data for whoever reaches them, and are
// safe only behind authentication the default install does not turn on.
// Reached from outside the cluster (an Ingress, or a LoadBalancer, NodePort
// or externalIPs Service: exposure.Analyze; from version 5 also a Gateway
// API or Istio gateway: exposure.AnalyzeGateways), they are a way in. The
// application is recognised by its image repository, not by workload
// names, which say nothing about what runs.

import (
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/exposure"
)

// ExposedSensitiveInterface reports management and code-running consoles
// reachable from outside the cluster.
func ExposedSensitiveInterface() posture.Check {
	return posture.Check{
		ID:          "exposed-sensitive-interface",
		Title:       "Sensitive interface is reachable from outside the cluster",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "exposure",
		Rationale:   "Consoles such as Jenkins, Argo, Jupyter, Ray or vLLM run code or hand out data and credentials to whoever reaches them; exposed, a missing or weak login is all that stands between the internet and the cluster.",
		Remediation: "Keep the interface on a ClusterIP Service reached through port-forward or a VPN, or put it behind an Ingress with TLS and single sign-on.",
		Scope:       posture.ScopeInventory,
		Versions: []posture.Versioned{
			{MinVersion: 4, Eval: exposedSensitiveInterfaces(exposure.Analyze)},
			{MinVersion: 5, Eval: exposedSensitiveInterfaces(exposure.AnalyzeGateways)},
			{MinVersion: 14, Eval: exposedSensitiveInterfaces(exposure.AnalyzePerPod)},
		},
	}
}

func exposedSensitiveInterfaces(analyze func(*kube.Inventory) *exposure.Graph) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		return sensitiveInterfaces(analyze(in.Inventory))
	}
}

func sensitiveInterfaces(g *exposure.Graph) []posture.Result {
	var out []posture.Result
	for _, e := range g.Exposed() {
		for _, c := range e.Workload.AllContainers() {
			iface := sensitiveInterface(c.Container.Image)
			if iface == "" {
				continue
			}
			var paths []string
			for _, p := range e.Paths {
				paths = append(paths, p.String())
			}
			ref := e.Ref
			out = append(out, posture.Result{
				Object:    e.Workload.Object,
				Path:      spathOf(e.Workload.SpecPath, c.Path("image")),
				Container: c.Container.Name,
				Image:     c.Container.Image,
				Message:   ref.Kind + " " + kube.QualifiedName(ref.Namespace, ref.Name) + " runs " + iface + " (container " + c.Container.Name + ") and is exposed: " + strings.Join(paths, "; ") + ".",
				Evidence:  []finding.Evidence{key("interface", iface), ev("exposure", firstExposure(e))},
			})
			break // one finding per workload: the exposure is the workload's
		}
	}
	return out
}

// spathOf joins a pod spec path and a path below it.
func spathOf(spec, field []string) []string {
	p := make([]string, 0, len(spec)+len(field))
	return append(append(p, spec...), field...)
}

// sensitiveInterface returns the name of the console an image runs, or "".
// Each entry runs code or exposes secrets to an unauthenticated caller in
// some default or common configuration: Jenkins' script console, the Argo
// Workflows server (argocli, client auth mode) and Argo CD, Jupyter
// notebooks, Kubeflow's dashboard, Apache NiFi, Weave Scope (exec into any
// container), Ray's jobs API (ShadowRay, CVE-2023-48022), vLLM's
// OpenAI-compatible API, and the Kubernetes Dashboard.
func sensitiveInterface(image string) string {
	if strings.TrimSpace(image) == "" {
		return ""
	}
	if imageComponent(image) == componentDashboard {
		return componentDashboard
	}
	repo := parseImage(image).Repo
	_, p, _ := strings.Cut(repo, "/") // drop the registry host
	owner, name, _ := strings.Cut(p, "/")
	switch {
	case p == "library/jenkins" || p == "jenkins/jenkins" || p == "bitnami/jenkins":
		return "jenkins"
	case p == "argoproj/argocli":
		return "argo-server"
	case p == "argoproj/argocd":
		return "argocd"
	case owner == "jupyter" || owner == "jupyterhub":
		return "jupyter"
	case strings.HasSuffix(p, "/centraldashboard"):
		return "kubeflow-dashboard"
	case p == "apache/nifi":
		return "nifi"
	case p == "weaveworks/scope":
		return "weave-scope"
	case p == "rayproject/ray" || p == "rayproject/ray-ml":
		return "ray"
	case owner == "vllm" && strings.HasPrefix(name, "vllm-openai"):
		return "vllm"
	}
	return ""
}
