package checks

// A Service with a selector gets its endpoints from the pods the selector
// matches in its namespace (EndpointSlice controller); when none match,
// every connection to it fails, and the workload it was written for is not
// behind it — typically a label renamed on one side only, or a Service in
// the wrong namespace. A Service without a selector (endpoints managed by
// hand or by another controller) and an ExternalName Service (a DNS alias)
// select nothing by design and are not judged. kube-linter
// dangling-service, Kubescape service-with-no-workload.

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/exposure"
)

// DanglingService reports Services whose selector matches no workload's
// pods in their namespace.
func DanglingService() posture.Check {
	return posture.Check{
		ID:          "dangling-service",
		Title:       "Service selects no workload",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "A Service whose selector matches no pod has no endpoints: its clients' connections fail, and the pods it was meant for are not behind it (a label or namespace that drifted).",
		Remediation: "Make the Service's selector match the pod template labels of its workload, in the same namespace, or remove the Service.",
		Scope:       posture.ScopeInventory,
		Kinds:       []string{"Service"},
		Versions:    []posture.Versioned{{MinVersion: 8, Eval: evalDanglingService}}, // new in version 8
	}
}

func evalDanglingService(in *posture.Input) []posture.Result {
	idx := exposure.IndexWorkloads(in.Inventory)
	var out []posture.Result
	for _, o := range in.Inventory.OfKind("Service") {
		svc, ok := o.Typed.(*corev1.Service)
		if !ok || svc.Spec.Type == corev1.ServiceTypeExternalName || len(svc.Spec.Selector) == 0 {
			continue
		}
		ns := kube.AppliedNamespace(o.Meta.Namespace)
		if idx.AnySelected(o.Source.Cluster, ns, labels.SelectorFromSet(svc.Spec.Selector)) {
			continue
		}
		sel := labelString(svc.Spec.Selector)
		out = append(out, posture.Result{Object: o, Path: []string{"spec", "selector"},
			Message: "Service " + ns + "/" + o.Meta.Name + " selects pods labelled " + sel + ", but no workload of namespace " + ns + " " +
				scannedSet(o) + " has them: the Service has no endpoints.",
			Evidence: []finding.Evidence{key("selector", sel)}})
	}
	return out
}
