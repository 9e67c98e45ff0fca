package checks

// CIS Kubernetes Benchmark 5.4.1/5.4.2 and NSA/CISA "Secrets": credentials
// belong in Secrets (encrypted at rest, separately authorized), not in
// ConfigMaps, which every reader of the namespace's configuration sees.
//
// Version 2: a value that is a file of NAME=value lines (an env file,
// .properties) is judged line by line, so "config: REDIS_PASSWORD=abcd1234"
// is reported like a REDIS_PASSWORD key (Trivy KSV0109 agrees).
//
// Version 4 judges with judgeSecret (secrets_judge.go): a secret-named key
// holding a placeholder (AWS_SECRET_ACCESS_KEY: xxxxx) is reported at
// medium severity with evidence value=placeholder, because the ConfigMap is
// where the real secret lands when the placeholder is filled in; references
// (${DB_PASSWORD}) and flags are not reported.

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// ConfigMapSecrets reports ConfigMap keys that look like secrets. Values
// are never copied into findings.
func ConfigMapSecrets() posture.Check {
	return posture.Check{
		ID:          "configmap-secrets",
		Title:       "ConfigMap holds secret-looking data",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "secrets",
		Rationale:   "ConfigMaps are not encrypted at rest by default and are readable by anyone who may read configuration.",
		Remediation: "Move the value into a Secret or an external secret store and reference it from there.",
		Scope:       posture.ScopeObject,
		Kinds:       []string{"ConfigMap"},
		Versions: []posture.Versioned{
			{MinVersion: 1, Eval: func(in *posture.Input) []posture.Result { return configMapSecrets(in, false) }},
			{MinVersion: 2, Eval: func(in *posture.Input) []posture.Result { return configMapSecrets(in, true) }},
			{MinVersion: 4, Eval: configMapSecretsJudged(judgeSecret)},
			{MinVersion: 12, Eval: configMapSecretsJudged(judgeSecretV12)},
			{MinVersion: 14, Eval: configMapSecretsJudged(judgeSecretV14)},
		},
	}
}

// configMapSecrets reports the secret-looking keys of in's ConfigMap and,
// with lines, the keys whose value holds a secret-looking NAME=value line.
func configMapSecrets(in *posture.Input, lines bool) []posture.Result {
	cm, ok := in.Object.Typed.(*corev1.ConfigMap)
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []posture.Result
	for _, k := range keys {
		ok, why := looksSecret(k, cm.Data[k])
		if !ok && lines {
			var kind secretKind
			kind, why = secretLine(cm.Data[k], judgeV1)
			ok = kind != notSecret
		}
		if ok {
			out = append(out, posture.Result{Path: []string{"data", k},
				Message:  "ConfigMap " + cm.Name + " key " + k + ": " + why + ".",
				Evidence: []finding.Evidence{key("key", k)}})
		}
	}
	return out
}

// configMapSecretsJudged reports the keys of in's ConfigMap that hold, or
// are placeholders for, a secret as judge sees them: by name and value, or
// by a NAME=value line (version 4 and later).
func configMapSecretsJudged(judge judgeFunc) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		cm, ok := in.Object.Typed.(*corev1.ConfigMap)
		if !ok {
			return nil
		}
		var out []posture.Result
		for _, k := range sortedKeys(cm.Data) {
			kind, why := judgeConfigValue(k, cm.Data[k], judge)
			if kind == notSecret {
				continue
			}
			out = append(out, secretResult(kind, []string{"data", k},
				"ConfigMap "+cm.Name+" key "+k+": "+why+".", key("key", k)))
		}
		return out
	}
}

// judgeConfigValue judges a ConfigMap key and value with judge, and
// failing a literal, the value's NAME=value lines.
func judgeConfigValue(k, v string, judge judgeFunc) (secretKind, string) {
	kind, why := judge(k, v)
	if kind != secretLiteral {
		if lk, lwhy := secretLine(v, judge); lk > kind {
			kind, why = lk, lwhy
		}
	}
	return kind, why
}

// judgeV1 is looksSecret as a judge for secretLine.
func judgeV1(name, value string) (secretKind, string) {
	if ok, why := looksSecret(name, value); ok {
		return secretLiteral, why
	}
	return notSecret, ""
}

// secretLine reports whether a line of value assigns a secret-looking
// NAME a literal ("NAME=value", "export NAME=value") as judge sees it, and
// says which: the first line holding a literal secret, else the first
// holding a placeholder.
func secretLine(value string, judge judgeFunc) (secretKind, string) {
	best, why := notSecret, ""
	for i, line := range strings.Split(value, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "export "))
		name, v, found := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !found || name == "" || strings.ContainsAny(name, " \t#") {
			continue
		}
		kind, _ := judge(name, strings.Trim(strings.TrimSpace(v), `"'`))
		if kind <= best {
			continue
		}
		best, why = kind, "line "+itoa(i+1)+" sets "+name+", which suggests a secret"
		if kind == secretPlaceholder {
			why += " (a placeholder the real secret will replace)"
		}
		if kind == secretLiteral {
			break
		}
	}
	return best, why
}
