package checks

// CIS Kubernetes Benchmark 5.1.3: "Minimize wildcard use in Roles and
// ClusterRoles. Kubernetes Roles and ClusterRoles provide access to
// resources based on sets of objects and actions that can be taken on those
// objects. It is possible to set either of these to be the wildcard '*',
// which matches all items."
//
// Evidence access=full marks a rule that grants every read and write verb
// (a verb '*', or all of get, list, watch, create, update, patch and
// delete) on every resource of every API group: control of everything the
// role reaches, what Polaris' rolebindingClusterAdminRole calls a
// cluster-admin-like Role. Adding evidence changes no verdict.

import (
	"slices"
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACWildcard reports role rules with "*" in verbs, resources or API groups.
func RBACWildcard() posture.Check {
	return posture.Check{
		ID:          "rbac-wildcard",
		Title:       "Role grants wildcard permissions",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "rbac",
		Rationale:   "A wildcard grants every current and future verb or resource, including ones added later by CRDs and upgrades.",
		Remediation: "List the verbs and resources the subject needs instead of '*'.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		Versions: append(rbacVersions(func(level exemption) func(*posture.Input) []posture.Result {
			return evalRBACWildcard(level, false)
		}),
			// Version 14 keeps critical for wildcards over API groups
			// that reach every workload or grant (wildcardCriticalGroups).
			posture.Versioned{MinVersion: 14, Eval: evalRBACWildcard(exactRules, true)}),
	}
}

// wildcardCriticalGroups are the API groups where every verb on every
// resource controls the cluster: pods and secrets (core), workloads
// (apps, batch, extensions), RBAC, admission webhooks, certificates
// (signing), and API extensions and aggregation (new APIs served by
// anyone). '*' on every resource of another group (a metrics API, one
// operator's custom resources) is high: control of that API only.
var wildcardCriticalGroups = []string{"*", "", "apps", "batch", "extensions", "rbac.authorization.k8s.io",
	"admissionregistration.k8s.io", "certificates.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io"}

// evalRBACWildcard is rbac-wildcard's evaluation at exemption level
// level; byGroup grades a rule with '*' in verbs and resources critical
// only over wildcardCriticalGroups (version 14), else always.
func evalRBACWildcard(level exemption, byGroup bool) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		o := in.Object
		if builtIn(o, level) {
			return nil
		}
		var out []posture.Result
		for i, rule := range rulesOf(o) {
			var where []string
			for _, f := range []struct {
				name string
				vals []string
			}{{"verbs", rule.Verbs}, {"resources", rule.Resources}, {"apiGroups", rule.APIGroups}} {
				if contains(f.vals, "*") {
					where = append(where, f.name)
				}
			}
			if len(where) == 0 {
				continue
			}
			sev := finding.SeverityMedium
			switch {
			case len(where) >= 2 && contains(where, "verbs") && (!byGroup || slices.ContainsFunc(rule.APIGroups, func(g string) bool { return contains(wildcardCriticalGroups, g) })):
				sev = finding.SeverityCritical
			case contains(where, "verbs") || contains(where, "resources"):
				sev = finding.SeverityHigh
			}
			evidence := append(ruleEvidence(i, rule), ev("wildcard", strings.Join(where, ",")))
			if contains(where, "resources") && contains(where, "apiGroups") && grantsEveryVerb(rule.Verbs) {
				evidence = append(evidence, ev("access", "full"))
			}
			out = append(out, posture.Result{
				Path:     []string{"rules", itoa(i)},
				Severity: sev,
				Message:  o.Ref.Kind + " " + o.Ref.Name + " rule " + itoa(i) + " uses '*' in " + strings.Join(where, " and ") + ".",
				Evidence: evidence,
			})
		}
		return out
	}
}

// readWriteVerbs are the verbs every resource serves: together they read,
// create, change and delete any object.
var readWriteVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete"}

// grantsEveryVerb reports whether verbs is '*' or lists every one of
// readWriteVerbs. Verbs are case-sensitive in RBAC.
func grantsEveryVerb(verbs []string) bool {
	if contains(verbs, "*") {
		return true
	}
	for _, v := range readWriteVerbs {
		if !contains(verbs, v) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
