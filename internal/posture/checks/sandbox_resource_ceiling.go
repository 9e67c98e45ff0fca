package checks

// Agent Sandbox pods run untrusted code, and a platform hands them out on
// demand (claims, warm pools): the limits of the template are what one
// agent may take from a node, so an operator caps them
// (posture.sandboxes.maxLimits) against resource hijacking (MITRE ATT&CK
// T1496: cryptomining is the classic abuse of a code-execution service)
// and noisy neighbours. A missing limit is the resources check's finding;
// this one judges the limits that are set against the ceiling. Quantities
// are compared as Kubernetes does ("1k" CPU is a thousand cores,
// "1073741824000m" memory is 1 GiB).

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// SandboxResourceCeiling reports Agent Sandbox containers whose limits
// exceed the configured ceiling.
func SandboxResourceCeiling() posture.Check {
	return posture.Check{
		ID:          "sandbox-resource-ceiling",
		Title:       "Agent sandbox container limit exceeds the configured ceiling",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "Sandboxes run untrusted code on demand; a template whose limits exceed what the platform allows lets each agent take more of a node than planned, for cryptomining or to starve its neighbours.",
		Remediation: "Lower the container's resources.limits in the Sandbox or SandboxTemplate to at most posture.sandboxes.maxLimits, or raise the ceiling if the workload needs it.",
		Scope:       posture.ScopeWorkload,
		Versions:    []posture.Versioned{{MinVersion: 8, Eval: evalSandboxResourceCeiling}}, // new in version 8
	}
}

func evalSandboxResourceCeiling(in *posture.Input) []posture.Result {
	sb := in.Options.Sandboxes
	if (sb.MaxCPU == "" && sb.MaxMemory == "") || !in.Workload.IsCustomWorkload() {
		return nil
	}
	type ceiling struct {
		res corev1.ResourceName
		max resource.Quantity
	}
	var ceilings []ceiling
	for _, c := range []struct {
		res corev1.ResourceName
		max string
	}{{corev1.ResourceCPU, sb.MaxCPU}, {corev1.ResourceMemory, sb.MaxMemory}} {
		// The configuration was validated; a ceiling that does not parse
		// (options built in code) sets none rather than failing the scan.
		if q, err := resource.ParseQuantity(c.max); err == nil {
			ceilings = append(ceilings, ceiling{c.res, q})
		}
	}
	return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
		var out []posture.Result
		for _, ce := range ceilings {
			limit, ok := c.Container.Resources.Limits[ce.res]
			if !ok || limit.Cmp(ce.max) <= 0 {
				continue
			}
			out = append(out, posture.Result{
				Path:     cpath(in, c, "resources", "limits", string(ce.res)),
				Message:  "Container " + c.Container.Name + " " + string(ce.res) + " limit " + limit.String() + " exceeds the sandbox ceiling " + ce.max.String() + " (posture.sandboxes.maxLimits).",
				Evidence: []finding.Evidence{key("resource", string(ce.res)), ev("limit", limit.String()), ev("ceiling", ce.max.String())},
			})
		}
		return out
	})
}
