package render

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/palisade-sec/palisade/internal/kube"
)

// clusterScoped are the cluster-scoped kinds charts commonly render; every
// other kind is namespaced.
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "StorageClass": true, "PriorityClass": true,
	"ClusterRole": true, "ClusterRoleBinding": true, "CustomResourceDefinition": true, "APIService": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
	"MutatingAdmissionPolicy": true, "MutatingAdmissionPolicyBinding": true,
	"IngressClass": true, "RuntimeClass": true, "CSIDriver": true, "CSINode": true, "VolumeAttachment": true,
	"ClusterIssuer": true, "PodSecurityPolicy": true, "FlowSchema": true, "PriorityLevelConfiguration": true,
}

// defaultNamespace puts a namespaced object without a namespace in ns, as
// `helm install --namespace ns` does, so checks that group by namespace
// (NetworkPolicies, quotas, exposure) see the chart's objects together.
func defaultNamespace(o *kube.Object, ns string) {
	if o.Ref.Namespace != "" || clusterScoped[o.Ref.Kind] {
		return
	}
	o.Ref.Namespace, o.Meta.Namespace = ns, ns
	if m, ok := o.Typed.(metav1.Object); ok {
		m.SetNamespace(ns)
	}
}
