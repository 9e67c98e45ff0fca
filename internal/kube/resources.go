package kube

import (
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// BuiltinResources returns the resources (plurals) that serve kind in
// group ("*": any group) on a Kubernetes API server without CRDs, in group
// order. Code that has no cluster to ask uses it (admission install
// offline, the live kinds); code that has one asks its API discovery, which
// also knows custom resources.
func BuiltinResources(group, kind string) []schema.GroupResource {
	var out []schema.GroupResource
	for _, g := range slices.Sorted(maps.Keys(builtinResources)) {
		if group != "*" && g != group {
			continue
		}
		if r, ok := builtinResources[g][kind]; ok {
			out = append(out, schema.GroupResource{Group: g, Resource: r})
		}
	}
	return out
}

// BuiltinResourceNames returns every built-in resource of group.
func BuiltinResourceNames(group string) []string {
	return slices.Sorted(maps.Values(builtinResources[group]))
}

// builtinResources are the kinds a Kubernetes 1.31 API server serves
// without CRDs, group → kind → resource.
var builtinResources = map[string]map[string]string{
	"": {
		"Binding": "bindings", "ComponentStatus": "componentstatuses", "ConfigMap": "configmaps",
		"Endpoints": "endpoints", "Event": "events", "LimitRange": "limitranges", "Namespace": "namespaces",
		"Node": "nodes", "PersistentVolume": "persistentvolumes", "PersistentVolumeClaim": "persistentvolumeclaims",
		"Pod": "pods", "PodTemplate": "podtemplates", "ReplicationController": "replicationcontrollers",
		"ResourceQuota": "resourcequotas", "Secret": "secrets", "Service": "services", "ServiceAccount": "serviceaccounts",
	},
	"admissionregistration.k8s.io": {
		"MutatingWebhookConfiguration": "mutatingwebhookconfigurations", "ValidatingWebhookConfiguration": "validatingwebhookconfigurations",
		"ValidatingAdmissionPolicy": "validatingadmissionpolicies", "ValidatingAdmissionPolicyBinding": "validatingadmissionpolicybindings",
	},
	"apiextensions.k8s.io":   {"CustomResourceDefinition": "customresourcedefinitions"},
	"apiregistration.k8s.io": {"APIService": "apiservices"},
	"apps": {
		"ControllerRevision": "controllerrevisions", "DaemonSet": "daemonsets", "Deployment": "deployments",
		"ReplicaSet": "replicasets", "StatefulSet": "statefulsets",
	},
	"autoscaling":                  {"HorizontalPodAutoscaler": "horizontalpodautoscalers"},
	"batch":                        {"CronJob": "cronjobs", "Job": "jobs"},
	"certificates.k8s.io":          {"CertificateSigningRequest": "certificatesigningrequests"},
	"coordination.k8s.io":          {"Lease": "leases"},
	"discovery.k8s.io":             {"EndpointSlice": "endpointslices"},
	"events.k8s.io":                {"Event": "events"},
	"flowcontrol.apiserver.k8s.io": {"FlowSchema": "flowschemas", "PriorityLevelConfiguration": "prioritylevelconfigurations"},
	"networking.k8s.io":            {"Ingress": "ingresses", "IngressClass": "ingressclasses", "NetworkPolicy": "networkpolicies"},
	"node.k8s.io":                  {"RuntimeClass": "runtimeclasses"},
	"policy":                       {"PodDisruptionBudget": "poddisruptionbudgets"},
	"rbac.authorization.k8s.io": {
		"ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings", "Role": "roles", "RoleBinding": "rolebindings",
	},
	"scheduling.k8s.io": {"PriorityClass": "priorityclasses"},
	"storage.k8s.io": {
		"CSIDriver": "csidrivers", "CSINode": "csinodes", "CSIStorageCapacity": "csistoragecapacities",
		"StorageClass": "storageclasses", "VolumeAttachment": "volumeattachments",
	},
}
