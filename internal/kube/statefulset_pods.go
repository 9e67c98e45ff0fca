package kube

import (
	"maps"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
)

// The labels the StatefulSet controller gives each pod besides its
// template's: one Service per pod selects by them (Redis HA's announce
// Services, a Kafka broker's external LoadBalancer).
const (
	StatefulSetPodNameLabel = "statefulset.kubernetes.io/pod-name"
	PodIndexLabel           = "apps.kubernetes.io/pod-index" // Kubernetes 1.28 and later
)

// MaxStatefulSetPods bounds the pods of one StatefulSet StatefulSetPods
// returns: replicas: 100000 must not make a scan build 100000 label sets.
const MaxStatefulSetPods = 64

// StatefulSetPods returns the labels of the pods of w when it is a
// StatefulSet: its template's, and the pod name (NAME-ORDINAL) and
// ordinal the controller adds, for the first MaxStatefulSetPods ordinals
// from spec.ordinals.start. Nil for other workloads.
func (w *Workload) StatefulSetPods() []map[string]string {
	sts, ok := w.Object.Typed.(*appsv1.StatefulSet)
	if !ok {
		return nil
	}
	replicas, start := 1, 0
	if sts.Spec.Replicas != nil {
		replicas = int(*sts.Spec.Replicas)
	}
	if sts.Spec.Ordinals != nil {
		start = int(sts.Spec.Ordinals.Start)
	}
	var out []map[string]string
	for i := start; i < start+min(replicas, MaxStatefulSetPods); i++ {
		set := maps.Clone(w.PodMeta.Labels)
		if set == nil {
			set = map[string]string{}
		}
		set[StatefulSetPodNameLabel] = sts.Name + "-" + strconv.Itoa(i)
		set[PodIndexLabel] = strconv.Itoa(i)
		out = append(out, set)
	}
	return out
}

// PerPodLabel reports whether key is a label a controller sets on each
// pod, which no pod template holds.
func PerPodLabel(key string) bool { return key == StatefulSetPodNameLabel || key == PodIndexLabel }
