package checks

// A HorizontalPodAutoscaler scales the object its scaleTargetRef names in
// its own namespace. When that object does not exist the autoscaler
// reports FailedGetScale and scales nothing, so the capacity its author
// planned for load is not there; whoever creates an object of that name
// later gets it scaled. Built-in scalable kinds (Deployment, StatefulSet,
// ReplicaSet, ReplicationController, OpenShift DeploymentConfig) are
// judged; a custom kind (an Argo Rollout) only when the scanned set holds
// objects of that kind, so a target kept elsewhere is not guessed at; a
// live scan judges the kinds it lists. kube-linter
// dangling-horizontalpodautoscaler, Kubescape hpa-has-target.

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// DanglingAutoscaler reports HorizontalPodAutoscalers whose target does
// not exist.
func DanglingAutoscaler() posture.Check {
	return posture.Check{
		ID:          "dangling-autoscaler",
		Title:       "HorizontalPodAutoscaler targets an object that does not exist",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "An autoscaler whose target does not exist scales nothing, so the capacity planned for load is absent, and an object created later under that name gets scaled.",
		Remediation: "Point scaleTargetRef at the workload's kind, apiVersion and name in the autoscaler's namespace, or remove the autoscaler.",
		Scope:       posture.ScopeInventory,
		Kinds:       []string{"HorizontalPodAutoscaler"},
		Needs:       []string{"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"},
		Versions:    []posture.Versioned{{MinVersion: 8, Eval: evalDanglingAutoscaler}}, // new in version 8
	}
}

// scalableKinds are the built-in kinds with a scale subresource;
// liveScalableKinds those a live scan lists (not OpenShift's
// DeploymentConfig), where any other is judged only if listed.
var (
	scalableKinds     = map[string]bool{"Deployment": true, "StatefulSet": true, "ReplicaSet": true, "ReplicationController": true, "DeploymentConfig": true}
	liveScalableKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "ReplicaSet": true, "ReplicationController": true}
)

func evalDanglingAutoscaler(in *posture.Input) []posture.Result {
	var out []posture.Result
	for _, o := range in.Inventory.OfKind("HorizontalPodAutoscaler") {
		m := fieldsOf(o)
		ref, _, _ := unstructured.NestedStringMap(m, "spec", "scaleTargetRef")
		kind, name := ref["kind"], ref["name"]
		if kind == "" || name == "" {
			continue
		}
		targets := objectsNamed(in.Inventory, kind)
		known := scalableKinds[kind]
		if liveObject(o) {
			known = liveScalableKinds[kind]
		}
		if !known && len(in.Inventory.OfKind(kind)) == 0 {
			continue
		}
		ns := kube.AppliedNamespace(o.Meta.Namespace)
		// Kind and name decide: the API group may differ between the
		// versions a kind was served at (extensions and apps Deployments).
		if targets.get(o, ns, name) != nil {
			continue
		}
		out = append(out, posture.Result{Object: o, Path: []string{"spec", "scaleTargetRef", "name"},
			Message:  "HorizontalPodAutoscaler " + ns + "/" + o.Meta.Name + " scales " + kind + " " + name + ", which does not exist in namespace " + ns + " " + scannedSet(o) + ".",
			Evidence: []finding.Evidence{key("kind", kind), key("name", name)}})
	}
	return out
}
