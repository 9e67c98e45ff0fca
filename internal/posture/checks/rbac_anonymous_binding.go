package checks

// CIS Kubernetes Benchmark 5.1.1 / 5.1.7 and NSA/CISA "Authentication and
// authorization": bindings to system:anonymous or system:unauthenticated
// grant permissions to anyone who can reach the API server; bindings to
// system:authenticated grant them to every identity, including every
// service account of every namespace. Kubernetes' own bootstrap bindings
// (discovery, public-info) are left out.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACAnonymousBinding reports bindings to anonymous or all-authenticated subjects.
func RBACAnonymousBinding() posture.Check {
	return posture.Check{
		ID:          "rbac-anonymous-binding",
		Title:       "Role is bound to anonymous or all authenticated users",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityCritical,
		Category:    "rbac",
		Rationale:   "Permissions bound to system:anonymous or system:unauthenticated are open to anyone who reaches the API server; system:authenticated includes every service account.",
		Remediation: "Bind the role to the specific users, groups or service accounts that need it.",
		Scope:       posture.ScopeObject,
		Kinds:       bindingKinds,
		Versions: rbacVersions(func(level exemption) func(*posture.Input) []posture.Result {
			return func(in *posture.Input) []posture.Result {
				o := in.Object
				subjects, ref, ok := subjectsOf(o)
				if !ok || builtIn(o, level) {
					return nil
				}
				var out []posture.Result
				for i, s := range subjects {
					var sev finding.Severity
					switch s.Name {
					case "system:anonymous", "system:unauthenticated":
						sev = finding.SeverityCritical
					case "system:authenticated":
						sev = finding.SeverityHigh
					default:
						continue
					}
					out = append(out, posture.Result{
						Path:     []string{"subjects", itoa(i)},
						Severity: sev,
						Message:  o.Ref.Kind + " " + o.Ref.Name + " binds " + ref.Kind + " " + ref.Name + " to " + s.Name + ".",
						Evidence: []finding.Evidence{key("subject", s.Name), ev("role", ref.Kind+"/"+ref.Name)},
					})
				}
				return out
			}
		}),
	}
}
