package checks

// CIS Kubernetes Benchmark 5.4.1: "Prefer using Secrets as files over
// Secrets as environment variables. It is reasonably common for application
// code to log out its environment (particularly in the event of an error).
// This will include any secret values passed in as environment variables,
// so secrets can easily be exposed to any user or entity who has access to
// the logs." env-secret-literal covers the worse case of a literal value;
// this check covers Secrets referenced into the environment.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// SecretEnvVar reports containers that take Secret values into their
// environment, by env[].valueFrom.secretKeyRef or envFrom[].secretRef.
func SecretEnvVar() posture.Check {
	return posture.Check{
		ID:          "secret-env-var",
		Title:       "Secret is exposed as an environment variable",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "secrets",
		Rationale:   "Environment variables end up in logs, crash reports and child processes, and are readable through /proc by anything sharing the process namespace; a mounted file is not.",
		Remediation: "Mount the Secret as a volume (readOnly) and read the file, instead of env valueFrom.secretKeyRef or envFrom.secretRef.",
		Scope:       posture.ScopeWorkload,
		// New in behaviour version 3: scans pinned to 1 or 2 leave it out.
		Versions: []posture.Versioned{{MinVersion: 3, Eval: func(in *posture.Input) []posture.Result {
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				var out []posture.Result
				for i, e := range c.Container.Env {
					if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
						continue
					}
					out = append(out, posture.Result{
						Path:     cpath(in, c, "env", itoa(i), "valueFrom", "secretKeyRef"),
						Message:  "Container " + c.Container.Name + " reads key " + e.ValueFrom.SecretKeyRef.Key + " of Secret " + e.ValueFrom.SecretKeyRef.Name + " into env " + e.Name + ".",
						Evidence: []finding.Evidence{key("env", e.Name), ev("via", "secretKeyRef")},
					})
				}
				for i, f := range c.Container.EnvFrom {
					if f.SecretRef == nil {
						continue
					}
					out = append(out, posture.Result{
						Path:     cpath(in, c, "envFrom", itoa(i), "secretRef"),
						Message:  "Container " + c.Container.Name + " loads every key of Secret " + f.SecretRef.Name + " into its environment.",
						Evidence: []finding.Evidence{key("envFrom", f.SecretRef.Name), ev("via", "envFrom")},
					})
				}
				return out
			})
		}}},
	}
}
