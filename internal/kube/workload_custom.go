package kube

import (
	"fmt"
	"hash/fnv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// CustomWorkloadKind is a custom resource whose controller creates Pods
// from a pod template the resource carries, so that the template is judged
// as a Deployment's is.
type CustomWorkloadKind struct {
	schema.GroupKind
	// TemplatePath is where the pod template (metadata and spec) sits
	// below the object's root.
	TemplatePath []string
}

// CustomWorkloadKinds lists the custom resources whose pod template is a
// workload, matched by API group and kind (a kind name alone is not
// enough: "Sandbox" is a common word).
//
// Kubernetes SIG Apps' Agent Sandbox (sigs.k8s.io/agent-sandbox), for
// running untrusted, often AI-agent-written code: the controller creates
// one Pod per Sandbox from spec.podTemplate (v1alpha1 and v1beta1 alike),
// and a SandboxTemplate's spec.podTemplate becomes the Sandboxes (so the
// Pods) its SandboxClaims and SandboxWarmPools ask for. Claims and warm
// pools carry no pod template, only a reference to the SandboxTemplate.
func CustomWorkloadKinds() []CustomWorkloadKind {
	return append([]CustomWorkloadKind(nil), customWorkloadKinds...)
}

// customWorkloadKinds is CustomWorkloadKinds' table, read on every
// unstructured object decoded: never written.
var customWorkloadKinds = []CustomWorkloadKind{
	{GroupKind: schema.GroupKind{Group: AgentSandboxGroup, Kind: "Sandbox"}, TemplatePath: []string{"spec", "podTemplate"}},
	{GroupKind: schema.GroupKind{Group: AgentSandboxExtensionsGroup, Kind: "SandboxTemplate"}, TemplatePath: []string{"spec", "podTemplate"}},
}

// The API groups of Agent Sandbox: the core Sandbox, and the extensions
// (SandboxTemplate, SandboxClaim, SandboxWarmPool).
const (
	AgentSandboxGroup           = "agents.x-k8s.io"
	AgentSandboxExtensionsGroup = "extensions.agents.x-k8s.io"
)

// IsCustomWorkloadKind reports whether gk is one of CustomWorkloadKinds.
func IsCustomWorkloadKind(gk schema.GroupKind) bool {
	for _, k := range customWorkloadKinds {
		if k.GroupKind == gk {
			return true
		}
	}
	return false
}

// IsCustomWorkload reports whether w comes from a custom resource of
// CustomWorkloadKinds rather than a built-in workload kind.
func (w *Workload) IsCustomWorkload() bool {
	if _, u := w.Object.Typed.(*unstructured.Unstructured); !u {
		return false // custom resources are never decoded into typed objects
	}
	_, ok := customTemplatePath(w.Object.Ref)
	return ok
}

// customTemplatePath returns where the pod template of ref's kind sits,
// when it is one of CustomWorkloadKinds.
func customTemplatePath(ref Ref) ([]string, bool) {
	group := APIGroup(ref.APIVersion)
	if group == "" {
		return nil, false // the core group has no custom resources
	}
	for _, k := range customWorkloadKinds {
		if k.Kind == ref.Kind && k.Group == group {
			return k.TemplatePath, true
		}
	}
	return nil, false
}

// APIGroup returns the group of an apiVersion ("apps/v1" → "apps", "v1" → "").
func APIGroup(apiVersion string) string {
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		return ""
	}
	return group
}

// applyControllerDefaults sets what the controller of a custom workload
// sets in the pod's metadata and spec before creating Pods from it, so
// that checks judge the Pods that run. The Agent Sandbox extensions
// controller, for the sandboxes it makes from a SandboxTemplate, turns off
// the service-account token unless the template sets
// automountServiceAccountToken (ApplySandboxSecureDefaults), and labels
// the pods with the template's name hash, which its NetworkPolicy (and a
// policy written for an Unmanaged template) selects. A Sandbox's own
// template is used as written.
func applyControllerDefaults(ref Ref, meta *metav1.ObjectMeta, spec *corev1.PodSpec) {
	if ref.Kind != "SandboxTemplate" || APIGroup(ref.APIVersion) != AgentSandboxExtensionsGroup {
		return
	}
	if spec.AutomountServiceAccountToken == nil {
		off := false
		spec.AutomountServiceAccountToken = &off
	}
	labels := make(map[string]string, len(meta.Labels)+1)
	for k, v := range meta.Labels {
		labels[k] = v
	}
	labels[SandboxTemplateRefHashLabel] = sandboxNameHash(ref.Name)
	meta.Labels = labels
}

// SandboxTemplateRefHashLabel is the label the Agent Sandbox controllers
// put on the sandboxes (and their pods) made from a SandboxTemplate; its
// value is sandboxNameHash of the template's name.
const SandboxTemplateRefHashLabel = "agents.x-k8s.io/sandbox-template-ref-hash"

// sandboxNameHash is Agent Sandbox's NameHash: FNV-1a (32 bits) of name,
// as 8 lowercase hex digits.
func sandboxNameHash(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("%08x", h.Sum32())
}

// customOwners says, per kind of workload object, which custom workloads
// create such objects from their own pod template: the Agent Sandbox
// controller creates a Sandbox's Pod, and a SandboxClaim's or
// SandboxWarmPool's Sandboxes from their SandboxTemplate.
var customOwners = map[string][]schema.GroupKind{
	"Pod":     {{Group: AgentSandboxGroup, Kind: "Sandbox"}},
	"Sandbox": {{Group: AgentSandboxExtensionsGroup, Kind: "SandboxClaim"}, {Group: AgentSandboxExtensionsGroup, Kind: "SandboxWarmPool"}},
}

// CreatedFromCustomTemplate reports whether a custom workload's controller
// created w's object from a pod template judged elsewhere: a Pod whose
// controller is a Sandbox, a Sandbox whose controller is a SandboxClaim or
// SandboxWarmPool (their SandboxTemplate holds the template). Judging the
// template once, where it is written, is what a live scan does for a
// Deployment's ReplicaSets and Pods.
func (w *Workload) CreatedFromCustomTemplate() bool {
	owners, ok := customOwners[w.Object.Ref.Kind]
	if !ok {
		return false
	}
	if w.Object.Ref.Kind == "Sandbox" && APIGroup(w.Object.Ref.APIVersion) != AgentSandboxGroup {
		return false
	}
	// Object.Meta keeps names, labels and annotations only; the owners
	// are read from the object itself.
	obj, ok := w.Object.Typed.(metav1.Object)
	if !ok {
		return false
	}
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil {
		return false
	}
	for _, o := range owners {
		if ref.Kind == o.Kind && APIGroup(ref.APIVersion) == o.Group {
			return true
		}
	}
	return false
}
