package checks

// MITRE ATT&CK T1190 (Exploit Public-Facing Application) and NSA/CISA
// "scan images" and "limit external exposure": a workload reachable from
// outside the cluster (the exposure graph of internet-exposed-workload,
// gateways included) runs an image with a critical or high vulnerability
// exploitable over the network (CVSS attack vector N). That is the
// shortest path to remote code in the cluster there is, so it ranks first:
// critical. The finding names the way in and the worst vulnerabilities.
// Without image scan data (Options.Images) the check reports nothing.

import (
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/exposure"
)

// ExposedVulnerableWorkload reports internet-exposed workloads running an
// image with a network-exploitable critical or high vulnerability.
func ExposedVulnerableWorkload() posture.Check {
	return posture.Check{
		ID:          "exposed-vulnerable-workload",
		Title:       "Internet-exposed workload runs a remotely exploitable vulnerable image",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityCritical,
		Category:    "exposure",
		Rationale:   "Anyone who reaches the workload from outside can try the vulnerability over the network; no other foothold is needed.",
		Remediation: "Rebuild and redeploy the image with the fixed packages first; until then take the workload off the internet or put it behind authentication.",
		Scope:       posture.ScopeInventory,
		Versions: []posture.Versioned{ // new in version 6
			{MinVersion: 6, Eval: exposedVulnerableWorkloads(exposure.AnalyzeGateways)},
			// Version 14: per-pod Services of StatefulSets are ways in
			// (exposure.AnalyzePerPod).
			{MinVersion: 14, Eval: exposedVulnerableWorkloads(exposure.AnalyzePerPod)},
		},
	}
}

// exposedVulnerableWorkloads returns the check's evaluation over the
// exposure graph analyze computes.
func exposedVulnerableWorkloads(analyze func(*kube.Inventory) *exposure.Graph) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		if in.Options.Images == nil {
			return nil
		}
		var out []posture.Result
		for _, e := range analyze(in.Inventory).Exposed() {
			var paths []string
			for _, p := range e.Paths {
				paths = append(paths, p.String())
			}
			w := e.Workload
			for _, c := range w.AllContainers() {
				m, ok := imageScanOf(in.Options, w, c)
				if !ok {
					continue
				}
				n := networkVulns(m.Scan)
				if n == 0 {
					continue
				}
				worst := worstIDs(m.Scan.Vulns, finding.SeverityHigh, true, 5)
				ref := e.Ref
				msg := ref.Kind + " " + kube.QualifiedName(ref.Namespace, ref.Name) + " is exposed (" + strings.Join(paths, "; ") + ") and its container " +
					c.Container.Name + " runs " + c.Container.Image + " with " + plural(n, "network-exploitable critical or high vulnerability", "network-exploitable critical or high vulnerabilities") +
					": " + strings.Join(worst, ", ") + "." + matchText(m)
				out = append(out, posture.Result{
					Object:    w.Object,
					Path:      append(append([]string{}, w.SpecPath...), c.Path("image")...),
					Container: c.Container.Name,
					Image:     c.Container.Image,
					Message:   msg,
					Evidence: append([]finding.Evidence{key("exposure", firstExposure(e)), ev("paths", strings.Join(paths, "; "))},
						append(matchEvidence(m), ev("networkExploitable", strconv.Itoa(n)), ev("worst", strings.Join(worst, ", ")))...),
				})
			}
		}
		return out
	}
}

// worstNetworkVuln returns the first container of the exposed workload e
// whose image has a network-exploitable critical or high vulnerability,
// with the worst such vulnerability, for internet-exposed-workload.
func worstNetworkVuln(opts *posture.Options, e *exposure.Exposure) (string, posture.ImageMatch, posture.ImageVuln, bool) {
	var (
		best      posture.ImageVuln
		bestC     string
		bestMatch posture.ImageMatch
		found     bool
	)
	for _, c := range e.Workload.AllContainers() {
		m, ok := imageScanOf(opts, e.Workload, c)
		if !ok {
			continue
		}
		for _, v := range m.Scan.Vulns {
			if !v.Network || v.Severity < finding.SeverityHigh {
				continue
			}
			if !found || v.Severity > best.Severity {
				best, bestC, bestMatch, found = v, c.Container.Name, m, true
			}
			break // Vulns are worst first
		}
	}
	return bestC, bestMatch, best, found
}
