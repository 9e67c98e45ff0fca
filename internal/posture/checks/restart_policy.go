package checks

// kube-linter restart-policy: a container that exits should be started
// again. What the API server accepts decides the verdict per kind:
//
//   - Deployments, ReplicaSets, StatefulSets, DaemonSets and
//     ReplicationControllers accept only Always (their controllers keep
//     pods running); any other value is refused when applied, so the
//     workload never runs (problem=refused).
//   - Jobs and CronJobs accept only OnFailure and Never, and Always or an
//     unset policy is refused. Never is not "never retried": the Job
//     controller replaces a failed pod with a new one, up to backoffLimit,
//     and keeps the failed one for its logs; both values pass.
//   - A bare Pod with Never is not restarted by anyone when its container
//     exits or crashes (problem=never-restarted); OnFailure and Always
//     restart it in place. A pod a controller owns (a Job's, exported
//     from a cluster) is replaced by it. A Helm hook pod (a chart's test)
//     is created by Helm for one event and run to completion: from
//     version 13 (helmHooksOneOffSince) it passes.

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RestartPolicy reports pods that are never restarted and restart policies
// the API server refuses for the workload's kind.
func RestartPolicy() posture.Check {
	return posture.Check{
		ID:          "restart-policy",
		Title:       "Restart policy never restarts the pod, or is refused for its kind",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "A bare pod with restartPolicy Never stays down after a crash; a policy the API server refuses for the kind means the workload is never created.",
		Remediation: "Run long-lived processes in a Deployment or StatefulSet (restartPolicy Always); give Jobs OnFailure or Never; give bare pods OnFailure or Always.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{
			{MinVersion: 8, Eval: restartPolicy(false)},
			{MinVersion: helmHooksOneOffSince, Eval: restartPolicy(true)},
		},
	}
}

// restartPolicy is restart-policy's Eval; hooksOneOff passes bare pods
// that are Helm hooks, which Helm runs to completion once
// (helmHooksOneOffSince).
func restartPolicy(hooksOneOff bool) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		policy := in.Workload.PodSpec.RestartPolicy
		path := spath(in, "restartPolicy")
		shown := string(policy)
		if shown == "" {
			shown = "unset"
		}
		refused := func(allowed string) []posture.Result {
			return []posture.Result{{Path: path,
				Message:  in.Object.Ref.Kind + " pod template has restartPolicy " + shown + ", which the API server refuses for this kind (allowed: " + allowed + "): the workload is never created.",
				Evidence: []finding.Evidence{key("problem", "refused"), ev("restartPolicy", shown)}}}
		}
		switch kind := in.Object.Ref.Kind; {
		case kind == "Pod":
			if policy != corev1.RestartPolicyNever || controlled(in.Object) {
				return nil // a Job's pod: the Job controller replaces it
			}
			if hooksOneOff && kube.IsHelmHook(in.Object) {
				return nil
			}
			return []posture.Result{{Path: path,
				Message:  "Pod has restartPolicy Never and no controller: when its container exits or crashes nothing starts it again.",
				Evidence: []finding.Evidence{key("problem", "never-restarted"), ev("restartPolicy", shown)}}}
		case kind == "Job" || kind == "CronJob":
			if policy == corev1.RestartPolicyOnFailure || policy == corev1.RestartPolicyNever {
				return nil
			}
			return refused("OnFailure, Never")
		case replicated(kind) || kind == "DaemonSet":
			if policy == "" || policy == corev1.RestartPolicyAlways {
				return nil
			}
			return refused("Always")
		}
		return nil
	}
}
