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
		Versions: rbacVersions(func(level exemption) func(*posture.Input) []posture.Result {
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
						for _, v := range f.vals {
							if v == "*" {
								where = append(where, f.name)
								break
							}
						}
					}
					if len(where) == 0 {
						continue
					}
					sev := finding.SeverityMedium
					if len(where) >= 2 && contains(where, "verbs") {
						sev = finding.SeverityCritical
					} else if contains(where, "verbs") || contains(where, "resources") {
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
		}),
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
