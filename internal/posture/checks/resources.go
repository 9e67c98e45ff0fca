package checks

// NSA/CISA Kubernetes Hardening Guide, "Resource policies": "set limits on
// the resources each container may use" so that one pod cannot starve the
// node (denial of service, resource hijacking). Each missing request or
// limit is named in the evidence ("missing" = "limits.cpu", …).

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// Resources reports containers without CPU and memory requests and limits.
func Resources() posture.Check {
	return posture.Check{
		ID:          "resources",
		Title:       "Container lacks resource requests or limits",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityMedium,
		Category:    "workload",
		Rationale:   "Without limits one container can exhaust its node; without requests the scheduler cannot place it fairly.",
		Remediation: "Set resources.requests and resources.limits for cpu and memory on every container, or a LimitRange default in the namespace.",
		Scope:       posture.ScopeWorkload,
		Versions: v1(func(in *posture.Input) []posture.Result {
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				r := c.Container.Resources
				var evs []finding.Evidence
				for _, m := range []struct {
					list corev1.ResourceList
					name string
					res  corev1.ResourceName
				}{
					{r.Requests, "requests.cpu", corev1.ResourceCPU},
					{r.Requests, "requests.memory", corev1.ResourceMemory},
					{r.Limits, "limits.cpu", corev1.ResourceCPU},
					{r.Limits, "limits.memory", corev1.ResourceMemory},
				} {
					if _, ok := m.list[m.res]; !ok {
						// A limit without a request defaults the request to the limit.
						if m.name[:8] == "requests" {
							if _, lim := r.Limits[m.res]; lim {
								continue
							}
						}
						evs = append(evs, key("missing", m.name))
					}
				}
				if len(evs) == 0 {
					return nil
				}
				msg := "Container " + c.Container.Name + " does not set"
				for i, e := range evs {
					if i > 0 {
						msg += ","
					}
					msg += " " + e.Value
				}
				return []posture.Result{{Path: cpath(in, c, "resources"), Message: msg + ".", Evidence: evs}}
			})
		}),
	}
}
