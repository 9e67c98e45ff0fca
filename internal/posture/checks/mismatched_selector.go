package checks

// A controller owns the pods its selector matches: a Deployment,
// ReplicaSet, StatefulSet, DaemonSet, ReplicationController or Job whose
// selector does not match its own pod template's labels would create pods
// it never counts, so the API server refuses it ("selector does not match
// template labels") and `kubectl apply` of the manifest fails. OpenShift
// DeploymentConfigs and objects of removed API versions get the same rule.
// A selector left empty where the API server derives it from the template
// (ReplicationController, DeploymentConfig, Job without manualSelector) is
// not judged, nor is a missing one (the API server reports that itself).
// kube-linter and Kubescape mismatching-selector.

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// MismatchedSelector reports workloads whose selector does not match their
// pod template's labels.
func MismatchedSelector() posture.Check {
	return posture.Check{
		ID:          "mismatched-selector",
		Title:       "Workload selector does not match its pod template labels",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "The API server refuses a workload whose selector does not match its own pod template's labels, so the manifest cannot be applied and the workload it describes does not run.",
		Remediation: "Give the pod template every label the selector requires (the selector of an existing Deployment, StatefulSet or DaemonSet cannot change).",
		Scope:       posture.ScopeWorkload,
		Versions:    []posture.Versioned{{MinVersion: 8, Eval: evalMismatchedSelector}}, // new in version 8
	}
}

func evalMismatchedSelector(in *posture.Input) []posture.Result {
	w := in.Workload
	sel, path, ok := ownerSelector(w.Object.Typed)
	if !ok || sel.Empty() || sel.Matches(labels.Set(w.PodMeta.Labels)) {
		return nil
	}
	o := w.Object
	return []posture.Result{{Path: path,
		Message:  o.Ref.Kind + " " + o.Meta.Name + " selects pods matching " + sel.String() + ", but its pod template's labels are " + labelString(w.PodMeta.Labels) + ".",
		Evidence: []finding.Evidence{key("selector", sel.String()), ev("labels", labelString(w.PodMeta.Labels))}}}
}

// ownerSelector returns the selector a workload object owns its pods
// by and its field path; ok is false when there is none to judge.
func ownerSelector(obj runtime.Object) (labels.Selector, []string, bool) {
	spec := []string{"spec", "selector"}
	switch t := obj.(type) {
	case *appsv1.Deployment:
		return labelSelector(t.Spec.Selector, spec)
	case *appsv1.ReplicaSet:
		return labelSelector(t.Spec.Selector, spec)
	case *appsv1.StatefulSet:
		return labelSelector(t.Spec.Selector, spec)
	case *appsv1.DaemonSet:
		return labelSelector(t.Spec.Selector, spec)
	case *batchv1.Job:
		return labelSelector(t.Spec.Selector, spec)
	case *batchv1.CronJob:
		return labelSelector(t.Spec.JobTemplate.Spec.Selector, []string{"spec", "jobTemplate", "spec", "selector"})
	case *corev1.ReplicationController:
		return labels.SelectorFromSet(t.Spec.Selector), spec, len(t.Spec.Selector) > 0
	case *unstructured.Unstructured:
		path := spec
		if t.GetKind() == "CronJob" {
			path = []string{"spec", "jobTemplate", "spec", "selector"}
		}
		raw, found, err := unstructured.NestedFieldNoCopy(t.Object, path...)
		m, isMap := raw.(map[string]any)
		if !found || err != nil || !isMap {
			return nil, nil, false
		}
		_, hasLabels := m["matchLabels"]
		_, hasExprs := m["matchExpressions"]
		if !hasLabels && !hasExprs {
			// A DeploymentConfig's (or ReplicationController's) plain
			// label map.
			set := labels.Set{}
			for k, v := range m {
				s, ok := v.(string)
				if !ok {
					return nil, nil, false
				}
				set[k] = s
			}
			return labels.SelectorFromSet(set), path, len(set) > 0
		}
		var ls metav1.LabelSelector
		if runtime.DefaultUnstructuredConverter.FromUnstructured(m, &ls) != nil {
			return nil, nil, false
		}
		return labelSelector(&ls, path)
	}
	return nil, nil, false
}

// labelSelector converts ls; an absent or invalid selector is not judged.
func labelSelector(ls *metav1.LabelSelector, path []string) (labels.Selector, []string, bool) {
	if ls == nil {
		return nil, nil, false
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, nil, false
	}
	return sel, path, true
}
