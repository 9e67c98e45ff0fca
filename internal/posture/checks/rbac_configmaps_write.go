package checks

// MITRE ATT&CK for Containers T1557 (Adversary-in-the-Middle) and T1098.006
// (Additional Container Cluster Roles). ConfigMaps carry configuration
// that workloads and the control plane trust: kube-system/coredns is the
// cluster's DNS (a rewrite or forward line there redirects every pod's name
// lookups: Kubescape's "CoreDNS poisoning"), and on EKS kube-system/aws-auth
// maps IAM roles and users to Kubernetes groups, system:masters included
// (Trivy KSV115). Writing other ConfigMaps changes application behaviour
// (Trivy KSV049).
//
// A rule that can reach one of those two is marked with evidence
// target=<name>: it can write it when its role may grant in kube-system (a
// ClusterRole, or a Role there or without a namespace) and its
// resourceNames, if any, include it. Such a finding is high when the
// scanned objects show the grant in kube-system (a Role there, or a
// ClusterRole bound cluster-wide or in kube-system), medium otherwise.
// Other rules limited by resourceNames are left out, like a controller's
// lock or own settings.

import (
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// criticalConfigMaps are the kube-system ConfigMaps whose change hands
// over the cluster (see above).
var criticalConfigMaps = []string{"coredns", "aws-auth"}

// RBACConfigMapsWrite reports roles that can create, change or delete ConfigMaps.
func RBACConfigMapsWrite() posture.Check {
	return posture.Check{
		ID:          "rbac-configmaps-write",
		Title:       "Role can create, change or delete ConfigMaps",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityMedium,
		Category:    "rbac",
		Rationale:   "ConfigMaps hold configuration that workloads trust; kube-system/coredns steers the cluster's DNS and, on EKS, kube-system/aws-auth grants cluster roles to IAM identities.",
		Remediation: "Remove create, update, patch, delete and deletecollection on configmaps, or limit them to the application's own ConfigMaps with resourceNames; never grant them in kube-system.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		// New in behaviour version 4: scans pinned to 1, 2 or 3 leave it out.
		Versions: rbacVersionsSince4(evalConfigMapsWrite),
	}
}

func evalConfigMapsWrite(level exemption) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result { return configMapsWrite(in, level) }
}

func configMapsWrite(in *posture.Input, level exemption) []posture.Result {
	o := in.Object
	if builtIn(o, level) {
		return nil
	}
	anyWrite := grant{group: "", resources: []string{"configmaps"}, verbs: writeVerbs}
	unnamed := anyWrite
	unnamed.anyName = true
	var out []posture.Result
	for i, rule := range rulesOf(o) {
		if !anyWrite.matches(rule, level) {
			continue
		}
		var targets, names []string
		if mayReachNamespace(o, "kube-system") {
			for _, name := range criticalConfigMaps {
				if namesObject(rule, name, writeVerbs, level) {
					targets = append(targets, name)
					names = append(names, "kube-system/"+name)
				}
			}
		}
		if len(targets) == 0 && !unnamed.matches(rule, level) {
			continue
		}
		r := grantResult(o, i, rule, "write access to configmaps")
		if len(targets) > 0 {
			r.Message += " It can change " + strings.Join(names, " and ") + "."
			for _, t := range targets {
				r.Evidence = append(r.Evidence, ev("target", t))
			}
			if boundIn(in, o, "kube-system") {
				r.Severity = finding.SeverityHigh
			}
		}
		out = append(out, r)
	}
	return out
}
