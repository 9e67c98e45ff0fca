package checks

// CIS Kubernetes Benchmark 5.4.1/5.4.2 and NSA/CISA "Secrets": credentials
// belong in Secrets (encrypted at rest, separately authorized), not in
// ConfigMaps, which every reader of the namespace's configuration sees.

import (
	"sort"

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
		Versions: v1(func(in *posture.Input) []posture.Result {
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
				if ok, why := looksSecret(k, cm.Data[k]); ok {
					out = append(out, posture.Result{Path: []string{"data", k},
						Message:  "ConfigMap " + cm.Name + " key " + k + ": " + why + ".",
						Evidence: []finding.Evidence{key("key", k)}})
				}
			}
			return out
		}),
	}
}
