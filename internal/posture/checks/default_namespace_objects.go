package checks

// CIS Kubernetes Benchmark 5.7.4, "The default namespace should not be
// used", audits every namespaced resource: `kubectl get` of them all in
// default should return only the kubernetes Service. default-namespace
// judges workloads; this check judges the rest of an application (its
// Services, ConfigMaps, Secrets, RBAC, storage claims, autoscalers), as
// Kubescape's *-in-default-namespace rules do.
//
// Left out: what the control plane itself keeps in default (the
// kubernetes Service, Endpoints and EndpointSlice by that name, the
// default ServiceAccount, the kube-root-ca.crt ConfigMap), so a new
// cluster has no finding; and NetworkPolicies, ResourceQuotas and
// LimitRanges, which guard the namespace instead of using it (the
// namespace checks ask for them in every namespace, default included).
// As default-namespace does, an explicit or live "default" is reported at
// low severity, and an object of a manifest that sets no namespace at
// info: it lands in default unless applied with -n. Charts are rendered
// into `posture scan --namespace`, as Helm installs them; without it, into
// default, which from version 10 counts as no namespace set.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// systemDefaultObjects are the objects the control plane creates in the
// default namespace, by kind and name.
var systemDefaultObjects = map[[2]string]bool{
	{"Service", "kubernetes"}:         true,
	{"Endpoints", "kubernetes"}:       true,
	{"EndpointSlice", "kubernetes"}:   true,
	{"ServiceAccount", "default"}:     true,
	{"ConfigMap", "kube-root-ca.crt"}: true,
}

// DefaultNamespaceObjects reports application objects other than
// workloads in the default namespace.
func DefaultNamespaceObjects() posture.Check {
	return posture.Check{
		ID:          "default-namespace-objects",
		Title:       "Object is in the default namespace",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "namespace",
		Rationale:   "Objects in the default namespace share it with everything deployed without a namespace: Roles, Secrets and Services meant for one application are within reach of all of them.",
		Remediation: "Create the object in the namespace of the application it belongs to.",
		Scope:       posture.ScopeObject,
		Kinds: []string{"Service", "ConfigMap", "Secret", "ServiceAccount", "Role", "RoleBinding", "Ingress",
			"PersistentVolumeClaim", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Endpoints", "EndpointSlice",
			"Lease", "PodTemplate", "CSIStorageCapacity"},
		Versions: []posture.Versioned{
			{MinVersion: 9, Eval: func(in *posture.Input) []posture.Result { return objectInDefaultNamespace(in.Object, false) }},
			{MinVersion: 10, Eval: func(in *posture.Input) []posture.Result { return objectInDefaultNamespace(in.Object, true) }},
		},
	}
}

func objectInDefaultNamespace(o *kube.Object, charts bool) []posture.Result {
	if systemDefaultObjects[[2]string{o.Ref.Kind, o.Ref.Name}] {
		return nil
	}
	return inDefaultNamespace(o, charts)
}
