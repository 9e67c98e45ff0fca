package checks

// The Prometheus operator scrapes the Services a ServiceMonitor selects
// (by the Services' own labels) and the pods a PodMonitor selects, in the
// namespaces its namespaceSelector names: its own namespace when that is
// absent, every namespace with any: true, else those of matchNames. One
// that selects nothing scrapes nothing, so the alerts built on those
// metrics never fire; a Service or pod created later with those labels is
// scraped, credentials included. A live scan does not list monitors.
// kube-linter dangling-servicemonitor.

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/exposure"
)

// DanglingMonitor reports ServiceMonitors and PodMonitors that select no
// Service or pod.
func DanglingMonitor() posture.Check {
	return posture.Check{
		ID:          "dangling-monitor",
		Title:       "ServiceMonitor or PodMonitor selects nothing",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "A monitor that selects no Service or pod scrapes nothing, so the alerts built on its metrics never fire; whatever is created later with its labels is scraped.",
		Remediation: "Make the selector match the labels of the Services (ServiceMonitor) or pods (PodMonitor) to scrape, and namespaceSelector name their namespaces (absent means the monitor's own).",
		Scope:       posture.ScopeInventory,
		Kinds:       []string{"ServiceMonitor", "PodMonitor"},
		Needs:       append(kube.PodKinds(), "Service"),
		// New in version 8. Version 13 counts the API server's Service as
		// selected in a manifest scan, version 14 the pods and the kubelet
		// Service the Prometheus operator makes (implied).
		Versions: impliedVersions(evalDanglingMonitor, 8, 13, 14),
	}
}

// monitorSpec is the part of a ServiceMonitor or PodMonitor read here.
type monitorSpec struct {
	Spec struct {
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector struct {
			Any        bool     `json:"any"`
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
	} `json:"spec"`
}

// evalDanglingMonitor is dangling-monitor's evaluation at behaviour
// version v: Services and pods implied at v are selected.
func evalDanglingMonitor(in *posture.Input, v posture.Version) []posture.Result {
	services := objectsNamed(in.Inventory, "Service")
	workloads := exposure.IndexWorkloads(in.Inventory)
	im := impliedBy(in.Inventory)
	var out []posture.Result
	for _, kind := range []string{"ServiceMonitor", "PodMonitor"} {
		for _, o := range in.Inventory.OfKind(kind) {
			u, ok := o.Typed.(*unstructured.Unstructured)
			if !ok || groupOf(o) != kube.MonitoringGroup {
				continue
			}
			var m monitorSpec
			if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &m) != nil {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(&m.Spec.Selector)
			if err != nil {
				continue
			}
			ns := kube.AppliedNamespace(o.Meta.Namespace)
			nss := []string{ns}
			nsText := "its namespace " + ns
			target := "Service"
			if kind == "PodMonitor" {
				target = "Pod"
			}
			switch {
			case m.Spec.NamespaceSelector.Any:
				nss, nsText = services.namespaces(o), "any namespace"
				if kind == "PodMonitor" {
					nss = workloads.Namespaces(o.Source.Cluster)
				}
				nss = append(nss, im.namespaces(o, target, v)...)
			case len(m.Spec.NamespaceSelector.MatchNames) > 0:
				nss, nsText = m.Spec.NamespaceSelector.MatchNames, "namespaces "+quoteList(m.Spec.NamespaceSelector.MatchNames)
			}
			if selectsAny(o, kind, sel, nss, services, workloads) || slices.ContainsFunc(nss, func(ns string) bool { return im.selected(o, target, ns, sel, v) }) {
				continue
			}
			noun, none := "Services", "no Service there has such labels"
			if kind == "PodMonitor" {
				noun, none = "pods", "no workload there has such pods"
			}
			out = append(out, posture.Result{Object: o, Path: []string{"spec", "selector"},
				Message: kind + " " + ns + "/" + o.Meta.Name + " selects " + noun + " matching " + selectorText(sel) + " in " + nsText +
					", but " + none + " " + scannedSet(o) + ": it scrapes nothing.",
				Evidence: []finding.Evidence{key("selector", selectorText(sel)), key("namespaces", nsText)}})
		}
	}
	return out
}

// selectsAny reports whether a monitor of kind selects a Service (by its
// labels) or a workload's pods in one of nss.
func selectsAny(from *kube.Object, kind string, sel labels.Selector, nss []string, services *nameIndex, workloads *exposure.WorkloadIndex) bool {
	for _, ns := range nss {
		if kind == "PodMonitor" {
			if workloads.AnySelected(from.Source.Cluster, ns, sel) {
				return true
			}
			continue
		}
		for _, s := range services.in(from, ns) {
			if sel.Matches(labels.Set(s.Meta.Labels)) {
				return true
			}
		}
	}
	return false
}

// selectorText renders a selector, "everything" when empty.
func selectorText(sel labels.Selector) string {
	if sel.Empty() {
		return "everything"
	}
	return sel.String()
}
