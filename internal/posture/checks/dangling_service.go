package checks

// A Service with a selector gets its endpoints from the pods the selector
// matches in its namespace (EndpointSlice controller); when none match,
// every connection to it fails, and the workload it was written for is not
// behind it — typically a label renamed on one side only, or a Service in
// the wrong namespace. A Service without a selector (endpoints managed by
// hand or by another controller) and an ExternalName Service (a DNS alias)
// select nothing by design and are not judged. A targetPort given by name
// is looked up among the selected pods' container ports (of the Service
// port's protocol): when no selected workload declares it, that port has
// no endpoints either. Pods a controller runs for a custom resource of the
// set, and the control plane's (implied), are selected from version 14.
// kube-linter dangling-service, Kubescape
// service-with-no-workload (both the selector only).

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/exposure"
)

// DanglingService reports Services whose selector matches no workload's
// pods in their namespace, and named target ports no selected pod declares.
func DanglingService() posture.Check {
	return posture.Check{
		ID:          "dangling-service",
		Title:       "Service selects no workload, or a target port no selected pod declares",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "A Service whose selector matches no pod, or whose named targetPort no selected pod declares, has no endpoints (for that port): its clients' connections fail, and the pods it was meant for are not behind it (a label, port name or namespace that drifted).",
		Remediation: "Make the Service's selector match the pod template labels of its workload, in the same namespace, and its named targetPorts name container ports of those pods (same protocol); or remove the Service.",
		Scope:       posture.ScopeInventory,
		Kinds:       []string{"Service"},
		Needs:       kube.PodKinds(),
		// New in version 8; version 14 counts the pods of implied
		// workloads: the Prometheus operator's, a StatefulSet's by their
		// own labels, and in a manifest scan the control plane's.
		Versions: impliedVersions(evalDanglingService, 8, 14),
	}
}

// evalDanglingService is dangling-service's evaluation at behaviour
// version v: a Service that selects no workload of the set but pods
// implied at v is not judged (their ports are not known).
func evalDanglingService(in *posture.Input, v posture.Version) []posture.Result {
	idx := exposure.IndexWorkloads(in.Inventory)
	var out []posture.Result
	for _, o := range in.Inventory.OfKind("Service") {
		svc, ok := o.Typed.(*corev1.Service)
		if !ok || svc.Spec.Type == corev1.ServiceTypeExternalName || len(svc.Spec.Selector) == 0 {
			continue
		}
		ns := kube.AppliedNamespace(o.Meta.Namespace)
		selector := labels.SelectorFromSet(svc.Spec.Selector)
		selected := idx.Selected(o.Source.Cluster, ns, selector)
		sel := labelString(svc.Spec.Selector)
		if len(selected) == 0 {
			// Asked only when no workload of the set is selected: implied
			// pods are an operator's, whose ports are not known, or a
			// StatefulSet's, whose workload is judged below when selected.
			if impliedBy(in.Inventory).selected(o, "Pod", ns, selector, v) {
				continue
			}
			out = append(out, posture.Result{Object: o, Path: []string{"spec", "selector"},
				Message: "Service " + ns + "/" + o.Meta.Name + " selects pods labelled " + sel + ", but no workload of namespace " + ns + " " +
					scannedSet(o) + " has them: the Service has no endpoints.",
				Evidence: []finding.Evidence{key("selector", sel), ev("problem", "no-workload")}})
			continue
		}
		for i, p := range svc.Spec.Ports {
			if p.TargetPort.Type != intstr.String || p.TargetPort.StrVal == "" || anyDeclares(selected, p.TargetPort.StrVal, p.Protocol) {
				continue
			}
			out = append(out, posture.Result{Object: o, Path: []string{"spec", "ports", itoa(i), "targetPort"},
				Message: "Service " + ns + "/" + o.Meta.Name + " sends port " + itoa(int(p.Port)) + " to the pods' port named " + p.TargetPort.StrVal +
					", which none of the " + itoa(len(selected)) + " workload(s) it selects declares for " + protocolOf(p.Protocol) + ": that port has no endpoints.",
				Evidence: []finding.Evidence{key("selector", sel), key("targetPort", p.TargetPort.StrVal), ev("problem", "target-port")}})
		}
	}
	return out
}

// anyDeclares reports whether a container of one of ws declares a port
// called name for protocol: the EndpointSlice controller resolves a named
// targetPort among the pod's containers (sidecar init containers, with
// restartPolicy Always, included).
func anyDeclares(ws []*kube.Workload, name string, protocol corev1.Protocol) bool {
	for _, w := range ws {
		for _, c := range w.AllContainers() {
			if c.List == "ephemeralContainers" || (c.List == "initContainers" && !isSidecar(c.Container)) {
				continue
			}
			if proto, ok := namedPort(c.Container, name); ok && proto == corev1.Protocol(protocolOf(protocol)) {
				return true
			}
		}
	}
	return false
}

// protocolOf is p, TCP when unset (the API server's default).
func protocolOf(p corev1.Protocol) string {
	if p == "" {
		return string(corev1.ProtocolTCP)
	}
	return string(p)
}
