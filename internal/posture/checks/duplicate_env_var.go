package checks

// A container's env list may name a variable more than once; the kubelet
// then gives the process the last definition, and since Kubernetes 1.31
// the API server warns that it "hides previous definition". The earlier
// definition — often a secretKeyRef or a setting someone meant to apply —
// silently does nothing. Variables from envFrom overridden by env are the
// documented way to override and are not reported. kube-linter and
// Kubescape duplicate-env-var.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// DuplicateEnvVar reports containers that define an environment variable
// more than once.
func DuplicateEnvVar() posture.Check {
	return posture.Check{
		ID:          "duplicate-env-var",
		Title:       "Container defines an environment variable more than once",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "Only the last definition of a repeated variable reaches the process; the earlier ones, which a reader may take as the setting in force, are ignored.",
		Remediation: "Define each variable once in the container's env list.",
		Scope:       posture.ScopeWorkload,
		Versions:    []posture.Versioned{{MinVersion: 8, Eval: evalDuplicateEnvVar}}, // new in version 8
	}
}

func evalDuplicateEnvVar(in *posture.Input) []posture.Result {
	return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
		first := map[string]int{}
		var out []posture.Result
		for i, e := range c.Container.Env {
			j, seen := first[e.Name]
			if !seen {
				first[e.Name] = i
				continue
			}
			out = append(out, posture.Result{Path: cpath(in, c, "env", itoa(i)),
				Message:  "Container " + c.Container.Name + " defines " + e.Name + " again at env[" + itoa(i) + "]: the definition at env[" + itoa(j) + "] is ignored.",
				Evidence: []finding.Evidence{key("name", e.Name), key("index", itoa(i))}})
		}
		return out
	})
}
