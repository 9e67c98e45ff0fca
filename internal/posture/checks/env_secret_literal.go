package checks

// CIS Kubernetes Benchmark 5.4.1: "Prefer using Secrets as files over
// Secrets as environment variables" — and never a secret as a literal
// value in the manifest, where anyone who can read the workload (or the
// git repository) reads it.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// EnvSecretLiteral reports environment variables whose literal value looks
// like a secret. The value itself is never copied into the finding.
func EnvSecretLiteral() posture.Check {
	return posture.Check{
		ID:          "env-secret-literal",
		Title:       "Secret-looking literal in a container environment variable",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "secrets",
		Rationale:   "A literal secret in a manifest is readable by everyone who can read the workload or its source repository.",
		Remediation: "Move the value into a Secret (or an external secret store) and reference it with valueFrom.secretKeyRef or a mounted file.",
		Scope:       posture.ScopeWorkload,
		Versions: v1(func(in *posture.Input) []posture.Result {
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				var out []posture.Result
				for i, e := range c.Container.Env {
					if e.ValueFrom != nil {
						continue
					}
					ok, why := looksSecret(e.Name, e.Value)
					if !ok {
						continue
					}
					out = append(out, posture.Result{
						Path:     cpath(in, c, "env", itoa(i), "value"),
						Message:  "Container " + c.Container.Name + " sets env " + e.Name + " to a literal value: " + why + ".",
						Evidence: []finding.Evidence{key("env", e.Name)},
					})
				}
				return out
			})
		}),
	}
}
