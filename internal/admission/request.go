package admission

import (
	"context"
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/palisade-sec/palisade/internal/kube"
)

// decodeRequest decodes the object under review straight from JSON into its
// typed form: the YAML path of kube.Decode keeps line numbers admission has
// no use for, and admission is on the API server's hot path.
func decodeRequest(ctx context.Context, ar *admissionv1.AdmissionRequest) (*Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(ar.Object.Raw) == 0 {
		return nil, errors.New("review has no object")
	}
	obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode(ar.Object.Raw, nil, nil)
	if err != nil {
		// Kinds the scheme does not know hold no pod spec we could judge.
		if runtime.IsNotRegisteredError(err) {
			return &Request{Review: ar, Namespace: ar.Namespace, Object: &kube.Object{Ref: kube.Ref{Kind: ar.Kind.Kind, Namespace: ar.Namespace, Name: ar.Name}}}, nil
		}
		return nil, fmt.Errorf("decode %s %s/%s: %w", ar.Kind.Kind, ar.Namespace, ar.Name, err)
	}
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
	req := &Request{Review: ar, Object: o, Namespace: ns, Workload: kube.WorkloadOf(o)}
	if req.Workload != nil && req.Workload.PodMeta.Namespace == "" {
		req.Workload.PodMeta.Namespace = ns
	}
	return req, nil
}
