package checks

// CIS Kubernetes Benchmark 5.4.1: "Prefer using Secrets as files over
// Secrets as environment variables" — and never a secret as a literal
// value in the manifest, where anyone who can read the workload (or the
// git repository) reads it.
//
// Version 4 judges with judgeSecret (secrets_judge.go): a secret-named
// variable set to a placeholder (DB_PASSWORD: changeme, AZURE_BATCH_KEY:
// xxx) is reported at medium severity with evidence value=placeholder, since
// the real secret will be written into the manifest in its place; $(VAR)
// (expanded by Kubernetes from the container's other variables) and ${VAR}
// are references, not reported; JWTs and Authorization values ("Bearer …")
// are credentials whatever the variable's name. Version 12 (judgeSecretV12)
// passes names that configure how a secret is obtained (*_CMD, *_IPS).

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
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: func(in *posture.Input) []posture.Result { return envSecretLiterals(in, judgeV1) }},
			{MinVersion: 4, Eval: func(in *posture.Input) []posture.Result { return envSecretLiterals(in, judgeSecret) }},
			{MinVersion: 12, Eval: func(in *posture.Input) []posture.Result { return envSecretLiterals(in, judgeSecretV12) }},
			{MinVersion: 14, Eval: func(in *posture.Input) []posture.Result { return envSecretLiterals(in, judgeSecretV14) }},
		},
	}
}

// envSecretLiterals reports the literal env values of in's containers that
// judge finds secret (or, from version 4, placeholders for a secret).
func envSecretLiterals(in *posture.Input, judge judgeFunc) []posture.Result {
	return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
		var out []posture.Result
		for i, e := range c.Container.Env {
			if e.ValueFrom != nil {
				continue
			}
			kind, why := judge(e.Name, e.Value)
			if kind == notSecret {
				continue
			}
			out = append(out, secretResult(kind, cpath(in, c, "env", itoa(i), "value"),
				"Container "+c.Container.Name+" sets env "+e.Name+" to a literal value: "+why+".", key("env", e.Name)))
		}
		return out
	})
}
