package checks

// Content of LimitRanges and ResourceQuotas (behaviour version 4 of
// namespace-limit-range and namespace-resource-quota): an object that is
// present but bounds neither cpu nor memory protects nothing, yet passed the
// presence check.

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// compute returns the resources a namespace's bounds must cover.
func compute() []corev1.ResourceName {
	return []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}
}

// byNamespace groups the inventory's objects of kind outside the control
// plane by namespace, in inventory order.
func byNamespace(inv *kube.Inventory, kind string) (order []string, objs map[string][]*kube.Object) {
	objs = map[string][]*kube.Object{}
	for _, o := range inv.OfKind(kind) {
		ns := o.Ref.Namespace
		if systemNamespace(ns) {
			continue
		}
		if _, ok := objs[ns]; !ok {
			order = append(order, ns)
		}
		objs[ns] = append(objs[ns], o)
	}
	return order, objs
}

// limitRangeGaps returns the container limits ("limits.cpu") that no
// LimitRange of a namespace bounds. The API server fills a Container
// item's default from its max, and a LimitRange Pod max rejects pods whose
// containers set no limit, so either bounds a container; min and
// defaultRequest bound nothing from above.
func limitRangeGaps(objs []*kube.Object) []string {
	bounded := map[corev1.ResourceName]bool{}
	for _, o := range objs {
		lr, ok := o.Typed.(*corev1.LimitRange)
		if !ok {
			continue
		}
		for _, it := range lr.Spec.Limits {
			for _, r := range compute() {
				switch it.Type {
				case corev1.LimitTypeContainer:
					_, d := it.Default[r]
					_, m := it.Max[r]
					bounded[r] = bounded[r] || d || m
				case corev1.LimitTypePod:
					_, m := it.Max[r]
					bounded[r] = bounded[r] || m
				}
			}
		}
	}
	var gaps []string
	for _, r := range compute() {
		if !bounded[r] {
			gaps = append(gaps, "limits."+string(r))
		}
	}
	return gaps
}

// resourceQuotaGaps returns the hard cpu and memory quotas (requests and
// limits) that no ResourceQuota of a namespace sets. Every quota of a
// namespace is enforced, so they add up; "cpu" is "requests.cpu".
func resourceQuotaGaps(objs []*kube.Object) []string {
	set := map[corev1.ResourceName]bool{}
	for _, o := range objs {
		q, ok := o.Typed.(*corev1.ResourceQuota)
		if !ok {
			continue
		}
		for name := range q.Spec.Hard {
			set[name] = true
		}
	}
	var gaps []string
	for _, r := range compute() {
		if !set[r] && !set["requests."+r] {
			gaps = append(gaps, "requests."+string(r))
		}
		if !set["limits."+r] {
			gaps = append(gaps, "limits."+string(r))
		}
	}
	slices.Sort(gaps)
	return gaps
}

// incompleteBounds reports, per namespace, the first object of kind when
// gaps of the namespace's objects of that kind is not empty.
func incompleteBounds(in *posture.Input, kind string, gaps func([]*kube.Object) []string, what string) []posture.Result {
	order, objs := byNamespace(in.Inventory, kind)
	var out []posture.Result
	for _, ns := range order {
		g := gaps(objs[ns])
		if len(g) == 0 {
			continue
		}
		o := objs[ns][0]
		list := strings.Join(g, ",")
		out = append(out, posture.Result{Object: o, Path: []string{"spec"},
			Message:  kind + " " + o.Ref.Name + " (namespace " + nsName(ns) + ") " + what + ": " + strings.Join(g, ", ") + ".",
			Evidence: []finding.Evidence{key("incomplete", list), ev("bounds", "incomplete")}})
	}
	return out
}
