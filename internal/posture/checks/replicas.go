package checks

// Polaris deploymentMissingReplicas, hpaMinAvailability and
// hpaMaxAvailability; kube-linter minimum-three-replicas and
// hpa-minimum-three-replicas. One pod is a single point of failure: a
// crash, an eviction, a node drain or a rollout takes the service down
// until a replacement is scheduled and ready. The minimum is
// posture.availability.minReplicas (default 2, the fewest that survive
// losing one pod).
//
//   - A replicated workload (Deployment, StatefulSet, ReplicaSet,
//     ReplicationController, DeploymentConfig) with fewer replicas than
//     the minimum, unset meaning 1 (problem=too-few-replicas). One scaled
//     to 0 runs nothing and passes; one an autoscaler drives is judged
//     by the autoscaler, which overrides spec.replicas.
//   - An HPA whose minReplicas (default 1) is below the minimum
//     (problem=autoscaler-min-too-low): at low load it scales to that.
//   - An HPA whose maxReplicas equals minReplicas can never scale
//     (problem=autoscaler-cannot-scale): load above what min pods serve
//     has nowhere to go.
//
// KEDA ScaledObjects are not judged here: scaling to zero between events
// is what they are for; they count as the autoscaler of their target, and
// the HPA KEDA creates for one (owned by it, as a live scan lists it) is
// left alone too.

import (
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// Replicas reports workloads and autoscalers that can leave a single pod.
func Replicas() posture.Check {
	return posture.Check{
		ID:          "replicas",
		Title:       "Workload or autoscaler runs too few replicas",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "A single pod is a single point of failure: a crash, eviction, drain or rollout takes the service down.",
		Remediation: "Run at least the configured minimum of replicas (2 by default), and give HorizontalPodAutoscalers a minReplicas of at least that, below maxReplicas.",
		Scope:       posture.ScopeInventory,
		Versions:    availabilityV8(replicaResults),
	}
}

func replicaResults(in *posture.Input) []posture.Result {
	minimum := in.Options.Availability.Replicas()
	var out []posture.Result
	// Objects, not workloads: a replica count is judged even on a
	// manifest whose template is missing.
	for _, o := range replicatedObjects(in.Inventory) {
		if _, scaled := scalerOf(in.Inventory, o); scaled {
			continue
		}
		n := replicas(o)
		if n == 0 || n >= minimum {
			continue
		}
		out = append(out, posture.Result{Object: o, Path: []string{"spec", "replicas"},
			Message:  o.Ref.Kind + " runs " + itoa(n) + " replica(s), fewer than " + itoa(minimum) + ": losing one pod or node takes it down.",
			Evidence: []finding.Evidence{key("problem", "too-few-replicas"), ev("replicas", itoa(n)), ev("minimum", itoa(minimum))}})
	}
	for _, o := range in.Inventory.OfKind("HorizontalPodAutoscaler") {
		if ownedByScaledObject(o) {
			continue // KEDA's own HPA: its ScaledObject decides, and may scale to zero
		}
		m := fieldsOf(o)
		lo, set := nestedInt(m, "spec", "minReplicas")
		if !set {
			lo = 1
		}
		hi, _ := nestedInt(m, "spec", "maxReplicas")
		if lo < minimum {
			shown := itoa(lo)
			if !set {
				shown += " (unset, the default)"
			}
			out = append(out, posture.Result{Object: o, Path: []string{"spec", "minReplicas"},
				Message:  "HorizontalPodAutoscaler minReplicas is " + shown + ", fewer than " + itoa(minimum) + ": at low load it scales its target down to a single point of failure.",
				Evidence: []finding.Evidence{key("problem", "autoscaler-min-too-low"), ev("minReplicas", itoa(lo)), ev("minimum", itoa(minimum))}})
		}
		if hi == lo {
			out = append(out, posture.Result{Object: o, Path: []string{"spec", "maxReplicas"},
				Message:  "HorizontalPodAutoscaler maxReplicas equals minReplicas (" + itoa(lo) + "): it can never scale.",
				Evidence: []finding.Evidence{key("problem", "autoscaler-cannot-scale"), ev("minReplicas", itoa(lo)), ev("maxReplicas", itoa(hi))}})
		}
	}
	return out
}

// ownedByScaledObject reports whether a KEDA ScaledObject controls o.
func ownedByScaledObject(o *kube.Object) bool {
	ref := controllerOf(o)
	return ref != nil && ref.Kind == "ScaledObject" && strings.HasPrefix(ref.APIVersion, "keda.sh/")
}
