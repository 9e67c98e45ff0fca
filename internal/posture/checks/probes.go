package checks

// Reliability hardening (kube-linter, Polaris): a container without a
// liveness probe is never restarted when it hangs; one without a readiness
// probe receives traffic before it can serve. Init and ephemeral containers
// cannot have probes and are skipped; Jobs and CronJobs run to completion
// and are skipped too.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// Probes reports long-running containers without liveness or readiness probes.
func Probes() posture.Check {
	return posture.Check{
		ID:          "probes",
		Title:       "Container lacks a liveness or readiness probe",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "workload",
		Rationale:   "Without probes Kubernetes cannot tell a hung or unready container from a healthy one.",
		Remediation: "Add livenessProbe and readinessProbe to every long-running container.",
		Scope:       posture.ScopeWorkload,
		Versions: exceptHelmHooks(v1(func(in *posture.Input) []posture.Result {
			switch in.Object.Ref.Kind {
			case "Job", "CronJob":
				return nil
			}
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				if c.List != "containers" {
					return nil
				}
				var evs []finding.Evidence
				if c.Container.LivenessProbe == nil {
					evs = append(evs, key("missing", "livenessProbe"))
				}
				if c.Container.ReadinessProbe == nil {
					evs = append(evs, key("missing", "readinessProbe"))
				}
				if len(evs) == 0 {
					return nil
				}
				msg := "Container " + c.Container.Name + " has no " + evs[0].Value
				if len(evs) == 2 {
					msg += " and no " + evs[1].Value
				}
				return []posture.Result{{Path: cpath(in, c), Message: msg + ".", Evidence: evs}}
			})
		})),
	}
}
