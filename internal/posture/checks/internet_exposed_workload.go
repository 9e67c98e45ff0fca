package checks

// NSA/CISA Kubernetes Hardening Guide, "Network separation and hardening",
// and MITRE ATT&CK T1190 (Exploit Public-Facing Application): a workload
// reachable from outside the cluster — through an Ingress, or a
// LoadBalancer, NodePort or externalIPs Service, and from behaviour version
// 5 a Gateway API Gateway or an Istio Gateway and the routes bound to it —
// is the first target of an attack, and its weaknesses count the most. The
// finding names the path (Ingress or Gateway → route → Service → workload)
// so the exposure is known where the workload is; its severity is raised
// when the workload is privileged or runs as root, and from version 5 when
// its mounted service-account token can take over the cluster
// (workload-token-takeover's grants): outside → workload → token →
// cluster is the shortest attack path there is. From version 6 it is
// critical as well when a container's image has a network-exploitable
// critical or high vulnerability (Options.Images; exposed-vulnerable-
// workload reports those on their own).

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/exposure"
)

// InternetExposedWorkload reports workloads reachable from outside the cluster.
func InternetExposedWorkload() posture.Check {
	return posture.Check{
		ID:          "internet-exposed-workload",
		Title:       "Workload is reachable from outside the cluster",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "exposure",
		Rationale:   "Exposed workloads are the first thing an attacker reaches; a privileged or root one turns an application bug into a node compromise.",
		Remediation: "Expose only what must be public, behind an Ingress with TLS and authentication; run exposed workloads unprivileged and as non-root.",
		Scope:       posture.ScopeInventory,
		// Version 4: a Service or workload without a namespace is in
		// "default" (exposure.Analyze). Version 5: paths in through Gateway
		// API and Istio gateways count (exposure.AnalyzeGateways), and a
		// token that can take over the cluster raises the severity.
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: exposedWorkloads(exposure.AnalyzeAsWritten, false, false)},
			{MinVersion: 4, Eval: exposedWorkloads(exposure.Analyze, false, false)},
			{MinVersion: 5, Eval: exposedWorkloads(exposure.AnalyzeGateways, true, false)},
			// Version 6: a remotely exploitable critical or high
			// vulnerability in a container's image raises it to critical.
			{MinVersion: 6, Eval: exposedWorkloads(exposure.AnalyzeGateways, true, true)},
			// Version 14: per-pod Services of StatefulSets are ways in
			// (exposure.AnalyzePerPod).
			{MinVersion: 14, Eval: exposedWorkloads(exposure.AnalyzePerPod, true, true)},
		},
	}
}

// exposedWorkloads reports each workload analyze finds exposed; with
// tokens, one whose token holds takeover grants is raised to their
// severity (critical for cluster-wide or kube-system grants); with images,
// one whose image has a network-exploitable critical or high vulnerability
// is critical.
func exposedWorkloads(analyze func(*kube.Inventory) *exposure.Graph, tokens, images bool) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		exposed := analyze(in.Inventory).Exposed()
		takeover := map[*kube.Object]workloadToken{}
		if tokens && len(exposed) > 0 {
			ts, _ := takeoverTokens(in.Inventory) // workload-token-takeover reports unresolved RBAC
			for _, t := range ts {
				takeover[t.w.Object] = t
			}
		}
		var out []posture.Result
		for _, e := range exposed {
			var paths []string
			for _, p := range e.Paths {
				paths = append(paths, p.String())
			}
			sev, why := exposedSeverity(e.Workload.PodSpec)
			ref := e.Ref
			msg := ref.Kind + " " + kube.QualifiedName(ref.Namespace, ref.Name) + " is exposed: " + strings.Join(paths, "; ") + "."
			if why != "" {
				msg += " It " + why + "."
			}
			evidence := []finding.Evidence{key("exposure", firstExposure(e)), ev("paths", strings.Join(paths, "; "))}
			if t, ok := takeover[e.Workload.Object]; ok {
				g := t.grants[0]
				sev = max(sev, g.sev)
				msg += " Its token (ServiceAccount " + t.ns + "/" + t.sa + ") can take over the cluster: " + tokenGrantPath(g) + "."
				evidence = append(evidence, ev("token", g.name))
			}
			if images {
				if c, m, v, ok := worstNetworkVuln(in.Options, e); ok {
					sev = finding.SeverityCritical
					msg += " Its container " + c + " runs " + m.Scan.Ref + " with the network-exploitable " + v.Severity.String() + " vulnerability " + v.ID + " in " + v.Package + "."
					evidence = append(evidence, ev("vulnerability", v.ID))
				}
			}
			out = append(out, posture.Result{
				Object:   e.Workload.Object,
				Path:     e.Workload.SpecPath,
				Severity: sev,
				Message:  msg,
				Evidence: evidence,
			})
		}
		return out
	}
}

// exposedSeverity is critical for a privileged exposed workload, high for
// one that runs as root or may (no runAsNonRoot, no non-zero runAsUser),
// medium otherwise; why says what raised it.
func exposedSeverity(spec *corev1.PodSpec) (finding.Severity, string) {
	root := false
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			c := &cs[i]
			if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
				return finding.SeverityCritical, "runs privileged container " + c.Name
			}
			user, nonRoot, _ := effectiveUser(spec, c)
			if (user != nil && *user == 0) || (user == nil && (nonRoot == nil || !*nonRoot)) {
				root = true
			}
		}
	}
	if root && !isWindows(spec) {
		return finding.SeverityHigh, "runs as root or is not proven non-root"
	}
	return finding.SeverityMedium, ""
}

// firstExposure is the key kind of exposure: Ingress when any path starts
// at one, else Gateway (Gateway API) or IstioGateway, else the first
// Service exposure.
func firstExposure(e *exposure.Exposure) string {
	kinds := map[string]bool{}
	for _, p := range e.Paths {
		kinds[p.Exposure] = true
	}
	for _, k := range []string{"Ingress", exposure.ExposureGateway, exposure.ExposureIstioGateway, "LoadBalancer", "NodePort", "externalIPs"} {
		if kinds[k] {
			return k
		}
	}
	return ""
}
