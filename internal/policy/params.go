package policy

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// ParamsRefs returns the ConfigMaps ps name in spec.paramsRef, sorted and
// without duplicates: what the webhook must watch, and exactly what its
// RBAC must let it read.
func ParamsRefs(ps []*Policy) []ConfigMapRef {
	var out []ConfigMapRef
	for _, p := range ps {
		if r := p.Doc.Spec.ParamsRef; r != nil {
			out = append(out, ConfigMapRef{Namespace: r.Namespace, Name: r.Name})
		}
	}
	slices.SortFunc(out, func(a, b ConfigMapRef) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return slices.Compact(out)
}

// Matches reports whether the policy's matchResources select in. A caller
// that must decide something about a request before evaluating the policy
// (a params ConfigMap that is missing) asks this first, so that a policy
// on Services does not deny pods.
func (p *Policy) Matches(in *Input) bool {
	return in.Object != nil && p.match.matches(in)
}

// ParamsOf is what a policy sees as params for a ConfigMap: its data, as a
// CEL map of strings ("params.maxReplicas").
func ParamsOf(cm *corev1.ConfigMap) map[string]any {
	out := make(map[string]any, len(cm.Data))
	for k, v := range cm.Data {
		out[k] = v
	}
	return out
}
