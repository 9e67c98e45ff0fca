package checks

// CIS Kubernetes Benchmark 5.1.2: "Minimize access to secrets. The
// Kubernetes API stores secrets, which may be service account tokens for
// the Kubernetes API or credentials used by workloads in the cluster.
// Access to these secrets should be restricted to the smallest possible
// group of users."
//
// Version 2: a rule restricted by resourceNames grants only the secrets it
// names, which is what the remediation asks for, and is not reported
// (Checkov CKV2_K8S_5 agrees).

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACSecretsRead reports roles that can read secrets.
func RBACSecretsRead() posture.Check {
	return posture.Check{
		ID:          "rbac-secrets-read",
		Title:       "Role can read secrets",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "rbac",
		Rationale:   "Secrets hold service account tokens and application credentials; reading them is often a step to other identities.",
		Remediation: "Remove get, list and watch on secrets, or restrict get to named secrets with resourceNames.",
		Scope:       posture.ScopeObject,
		Kinds:       rbacKinds,
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: roleGrants("read access to secrets", exemptSystemNames,
				grant{group: "", resources: []string{"secrets"}, verbs: []string{"get", "list", "watch"}},
			)},
			{MinVersion: 2, Eval: roleGrants("read access to secrets", exemptSystemNames,
				grant{group: "", resources: []string{"secrets"}, verbs: []string{"get", "list", "watch"}, anyName: true},
			)},
			{MinVersion: 3, Eval: roleGrants("read access to secrets", exemptSystemNamespaces,
				grant{group: "", resources: []string{"secrets"}, verbs: []string{"get", "list", "watch"}, anyName: true},
			)},
			{MinVersion: 4, Eval: roleGrants("read access to secrets", exemptLabelled,
				grant{group: "", resources: []string{"secrets"}, verbs: []string{"get", "list", "watch"}, anyName: true},
			)},
			{MinVersion: 5, Eval: roleGrants("read access to secrets", exactRules,
				grant{group: "", resources: []string{"secrets"}, verbs: []string{"get", "list", "watch"}, anyName: true},
			)},
		},
	}
}
