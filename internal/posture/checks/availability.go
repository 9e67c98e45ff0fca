package checks

// What the reliability checks share: how many pods a workload keeps, what
// scales it, and which pods a selector picks. The API server's defaults
// are applied as it applies them: replicas 1 when unset, an HPA's
// minReplicas 1, a KEDA ScaledObject's minReplicaCount 0 and
// maxReplicaCount 100.

import (
	"math"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// availabilityV8 is the first behaviour of a check added in version 8.
func availabilityV8(eval func(*posture.Input) []posture.Result) []posture.Versioned {
	return []posture.Versioned{{MinVersion: 8, Eval: eval}}
}

// helmHooksOneOffSince is the behaviour version from which a Helm hook (a
// chart's test pod, a pre-install pod) is judged as the one-off it is:
// Helm creates it for one event, waits for it to complete and deletes it
// as its hook-delete-policy says, so nothing is to restart, replace or
// probe it. Earlier versions judged a chart's test pod as a long-running
// bare pod (bare-pod, restart-policy, probes), three findings per test in
// most charts.
const helmHooksOneOffSince = 13

// exceptHelmHooks adds to a check's versions one from
// helmHooksOneOffSince that is its newest, except that it reports
// nothing on Helm hooks.
func exceptHelmHooks(vs []posture.Versioned) []posture.Versioned {
	newest := vs[len(vs)-1].Eval
	return append(vs, posture.Versioned{MinVersion: helmHooksOneOffSince, Eval: func(in *posture.Input) []posture.Result {
		if kube.IsHelmHook(in.Object) {
			return nil
		}
		return newest(in)
	}})
}

// replicatedKinds are the kinds that keep a count of identical pods: the
// ones replicas, PodDisruptionBudgets and spreading are about. DaemonSets
// run one pod per node and Jobs run to completion; neither has replicas.
// The order is the order replicatedObjects returns them in.
var replicatedKinds = []string{"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "DeploymentConfig"}

// replicated reports whether kind is one of replicatedKinds.
func replicated(kind string) bool { return slices.Contains(replicatedKinds, kind) }

// replicatedObjects returns the inventory's objects of replicatedKinds,
// kind by kind in a fixed order, each kind in input order.
func replicatedObjects(inv *kube.Inventory) []*kube.Object {
	var out []*kube.Object
	for _, k := range replicatedKinds {
		out = append(out, inv.OfKind(k)...)
	}
	return out
}

// replicas returns a replicated workload's declared replica count, 1 when
// unset (the API server's default).
func replicas(o *kube.Object) int {
	var p *int32
	switch t := o.Typed.(type) {
	case *appsv1.Deployment:
		p = t.Spec.Replicas
	case *appsv1.StatefulSet:
		p = t.Spec.Replicas
	case *appsv1.ReplicaSet:
		p = t.Spec.Replicas
	case *corev1.ReplicationController:
		p = t.Spec.Replicas
	default:
		if n, ok := nestedInt(fieldsOf(o), "spec", "replicas"); ok {
			return n
		}
		return 1
	}
	if p == nil {
		return 1
	}
	return int(*p)
}

// fieldsOf returns o's content as unstructured fields, for the rarer
// kinds read without their Go type (HPAs of any version, PDBs, KEDA
// ScaledObjects, workloads of removed API versions); nil when o has none.
func fieldsOf(o *kube.Object) map[string]any {
	switch t := o.Typed.(type) {
	case nil:
		return nil
	case *unstructured.Unstructured:
		return t.Object
	default:
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(t)
		if err != nil {
			return nil
		}
		return m
	}
}

// nestedInt reads an integer field, whatever number type the decoder gave.
func nestedInt(m map[string]any, path ...string) (int, bool) {
	v, ok, _ := unstructured.NestedFieldNoCopy(m, path...)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return int(n), true
	case int:
		return n, true
	case int32:
		return int(n), true
	case float64:
		return int(n), true
	}
	return 0, false
}

// nestedIntOrString reads an int-or-percent field such as minAvailable.
func nestedIntOrString(m map[string]any, path ...string) (intstr.IntOrString, bool) {
	v, ok, _ := unstructured.NestedFieldNoCopy(m, path...)
	if !ok || v == nil {
		return intstr.IntOrString{}, false
	}
	if s, isStr := v.(string); isStr {
		return intstr.FromString(s), true
	}
	if n, isInt := nestedInt(map[string]any{"v": v}, "v"); isInt {
		return intstr.FromInt32(int32(n)), true
	}
	return intstr.IntOrString{}, false
}

// scaledValue is the count an int-or-percent value means for total pods:
// a percentage rounded up (the disruption controller's budgets, a
// Deployment's maxSurge) or down (a Deployment's maxUnavailable); ok is
// false for a percentage that does not parse.
func scaledValue(v intstr.IntOrString, total int, roundUp bool) (int, bool) {
	if v.Type == intstr.Int {
		return v.IntValue(), true
	}
	p, isPct := strings.CutSuffix(v.StrVal, "%")
	n, err := strconv.Atoi(p)
	if !isPct || err != nil {
		return 0, false
	}
	if roundUp {
		return int(math.Ceil(float64(n) * float64(total) / 100)), true
	}
	return n * total / 100, true
}

// scaler is an autoscaler of a workload: an HPA, or a KEDA ScaledObject
// (which drives an HPA of its own).
type scaler struct {
	Object   *kube.Object
	Min, Max int
	MinSet   bool
}

// scalerKey names a scale target: namespace (as applied), kind and name.
type scalerKey struct{ Namespace, Kind, Name string }

type scalersKey struct{}

// scalers indexes the inventory's autoscalers by their target, once per
// scan.
func scalers(inv *kube.Inventory) map[scalerKey]scaler {
	return inv.Derived(scalersKey{}, func() any {
		out := map[scalerKey]scaler{}
		for _, o := range inv.OfKind("HorizontalPodAutoscaler") {
			m := fieldsOf(o)
			s := scaler{Object: o, Min: 1, Max: 0}
			if n, ok := nestedInt(m, "spec", "minReplicas"); ok {
				s.Min, s.MinSet = n, true
			}
			s.Max, _ = nestedInt(m, "spec", "maxReplicas")
			kind, _, _ := unstructured.NestedString(m, "spec", "scaleTargetRef", "kind")
			name, _, _ := unstructured.NestedString(m, "spec", "scaleTargetRef", "name")
			out[scalerKey{kube.AppliedNamespace(o.Meta.Namespace), kind, name}] = s
		}
		for _, o := range inv.OfKind("ScaledObject") {
			if !strings.HasPrefix(o.Ref.APIVersion, "keda.sh/") {
				continue
			}
			m := fieldsOf(o)
			s := scaler{Object: o, Min: 0, Max: 100}
			if n, ok := nestedInt(m, "spec", "minReplicaCount"); ok {
				s.Min, s.MinSet = n, true
			}
			if n, ok := nestedInt(m, "spec", "maxReplicaCount"); ok {
				s.Max = n
			}
			kind, _, _ := unstructured.NestedString(m, "spec", "scaleTargetRef", "kind")
			if kind == "" {
				kind = "Deployment" // KEDA's default target kind
			}
			name, _, _ := unstructured.NestedString(m, "spec", "scaleTargetRef", "name")
			out[scalerKey{kube.AppliedNamespace(o.Meta.Namespace), kind, name}] = s
		}
		return out
	}).(map[scalerKey]scaler)
}

// scalerOf returns the autoscaler of workload object o, if any.
func scalerOf(inv *kube.Inventory, o *kube.Object) (scaler, bool) {
	if len(inv.OfKind("HorizontalPodAutoscaler")) == 0 && len(inv.OfKind("ScaledObject")) == 0 {
		return scaler{}, false
	}
	s, ok := scalers(inv)[scalerKey{kube.AppliedNamespace(o.Meta.Namespace), o.Ref.Kind, o.Meta.Name}]
	return s, ok
}

// podRange is how few and how many pods a replicated workload runs: its
// replicas, or its autoscaler's bounds (the autoscaler overrides replicas).
func podRange(inv *kube.Inventory, o *kube.Object) (lo, hi int, s *scaler) {
	if sc, ok := scalerOf(inv, o); ok {
		return sc.Min, max(sc.Max, sc.Min), &sc
	}
	n := replicas(o)
	return n, n, nil
}

// podLabels returns the labels of a workload's pods: its template's, and
// the selector's matchLabels, which the API server requires the template
// to carry (so a manifest that forgets them is judged as it must be fixed).
func podLabels(w *kube.Workload) map[string]string {
	sel := workloadSelector(w.Object)
	if len(sel) == 0 {
		return w.PodMeta.Labels
	}
	out := make(map[string]string, len(w.PodMeta.Labels)+len(sel))
	for k, v := range w.PodMeta.Labels {
		out[k] = v
	}
	for k, v := range sel {
		out[k] = v
	}
	return out
}

// workloadSelector returns the matchLabels of a workload's selector.
func workloadSelector(o *kube.Object) map[string]string {
	var ls *metav1.LabelSelector
	switch t := o.Typed.(type) {
	case *appsv1.Deployment:
		ls = t.Spec.Selector
	case *appsv1.StatefulSet:
		ls = t.Spec.Selector
	case *appsv1.ReplicaSet:
		ls = t.Spec.Selector
	case *appsv1.DaemonSet:
		ls = t.Spec.Selector
	case *corev1.ReplicationController:
		return t.Spec.Selector
	case *corev1.Pod:
		return nil
	default:
		m, ok, _ := unstructured.NestedStringMap(fieldsOf(o), "spec", "selector", "matchLabels")
		if ok {
			return m
		}
		return nil
	}
	if ls == nil {
		return nil
	}
	return ls.MatchLabels
}

// controlled reports whether a controller owns o, which then recreates it.
func controlled(o *kube.Object) bool { return controllerOf(o) != nil }

// controllerOf returns the owner reference of o's controller, or nil.
func controllerOf(o *kube.Object) *metav1.OwnerReference {
	a, err := meta.Accessor(o.Typed)
	if err != nil {
		return nil
	}
	return metav1.GetControllerOf(a)
}
