package admission

import (
	"context"
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	kjson "sigs.k8s.io/json"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/policy"
)

// decodeRequest decodes the object under review into the form CEL policies
// judge (policy.DecodeObject) and into its typed form for the Go policies.
// The typed decode is the one the universal deserializer makes, without its
// second pass to find the kind, which the first decode already found:
// admission is on the API server's hot path. (The YAML path of kube.Decode
// keeps line numbers admission has no use for.)
func decodeRequest(ctx context.Context, ar *admissionv1.AdmissionRequest) (*Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(ar.Object.Raw) == 0 {
		return nil, errors.New("review has no object")
	}
	m, err := policy.DecodeObject(ar.Object.Raw)
	if err != nil {
		return nil, fmt.Errorf("decode %s %s/%s: %w", ar.Kind.Kind, ar.Namespace, ar.Name, err)
	}
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	if kind == "" {
		return nil, fmt.Errorf("decode %s %s/%s: the object has no kind", ar.Kind.Kind, ar.Namespace, ar.Name)
	}
	gvk := schema.FromAPIVersionAndKind(apiVersion, kind)
	obj, err := scheme.Scheme.New(gvk)
	switch {
	case err == nil:
		if err := kjson.UnmarshalCaseSensitivePreserveInts(ar.Object.Raw, obj); err != nil {
			return nil, fmt.Errorf("decode %s %s/%s: %w", ar.Kind.Kind, ar.Namespace, ar.Name, err)
		}
	case runtime.IsNotRegisteredError(err) && kube.IsCustomWorkloadKind(gvk.GroupKind()):
		// A custom resource whose pod template is a workload (Agent
		// Sandbox), when the webhook's rules send it (the chart's
		// webhook.extraRules): judged as the same YAML in a manifest. A
		// copy, since CEL policies read m.
		obj = &unstructured.Unstructured{Object: runtime.DeepCopyJSON(m)}
	case runtime.IsNotRegisteredError(err):
		// Other kinds the scheme does not know hold no pod spec we could judge.
		return &Request{Review: ar, Namespace: ar.Namespace, Object: &kube.Object{Ref: kube.Ref{Kind: ar.Kind.Kind, Namespace: ar.Namespace, Name: ar.Name}}, object: m}, nil
	default:
		return nil, fmt.Errorf("decode %s %s/%s: %w", ar.Kind.Kind, ar.Namespace, ar.Name, err)
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	acc, err := apimeta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("read metadata of %s: %w", ar.Kind.Kind, err)
	}
	name := acc.GetName()
	if name == "" {
		name = acc.GetGenerateName() // "web-" for objects named by the server
	}
	if name == "" {
		name = ar.Name
	}
	ns := acc.GetNamespace()
	if ns == "" {
		ns = ar.Namespace
	}
	o := &kube.Object{
		Ref:   kube.Ref{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Namespace: ns, Name: name},
		Meta:  metav1.ObjectMeta{Name: name, Namespace: ns, Labels: acc.GetLabels(), Annotations: acc.GetAnnotations()},
		Typed: obj,
	}
	req := &Request{Review: ar, Object: o, Namespace: ns, Workload: kube.WorkloadOf(o), object: m}
	if req.Workload != nil && req.Workload.PodMeta.Namespace == "" {
		req.Workload.PodMeta.Namespace = ns
	}
	return req, nil
}
