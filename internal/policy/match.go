package policy

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func (r Requirement) selectorOp() (metav1.LabelSelectorOperator, error) {
	switch op := metav1.LabelSelectorOperator(r.Operator); op {
	case metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist:
		return op, nil
	}
	return "", fmt.Errorf("matchExpressions operator %q: want In, NotIn, Exists or DoesNotExist", r.Operator)
}

func (s *LabelSelector) selector() (labels.Selector, error) {
	ls := &metav1.LabelSelector{MatchLabels: s.MatchLabels}
	for _, r := range s.MatchExpressions {
		op, err := r.selectorOp()
		if err != nil {
			return nil, err
		}
		ls.MatchExpressions = append(ls.MatchExpressions, metav1.LabelSelectorRequirement{Key: r.Key, Operator: op, Values: r.Values})
	}
	return metav1.LabelSelectorAsSelector(ls)
}

// MayJudge reports whether the policy may judge a request for kind (in
// group) with operation, as far as matchResources' apiGroups, kinds and
// operations tell: false lets a caller skip decoding the request for it.
// An empty kind may be anything.
func (p *Policy) MayJudge(group, kind, operation string) bool {
	return kind == "" || p.match.matchesKind(group, kind, operation)
}

func (m *matcher) matchesKind(group, kind, op string) bool {
	if m.groups != nil && !m.groups[group] {
		return false
	}
	if m.kinds != nil && !m.kinds[kind] {
		return false
	}
	if op == "" {
		op = "CREATE"
	}
	return m.ops == nil || m.ops[op]
}

// matches reports whether the policy judges the request in in.
func (m *matcher) matches(in *Input) bool {
	group, kind := in.Request.Kind.Group, in.Request.Kind.Kind
	if kind == "" {
		group, kind = groupKindOf(in.Object)
	}
	if !m.matchesKind(group, kind, in.Request.Operation) {
		return false
	}
	ns := in.Request.Namespace
	if ns == "" {
		ns = str(in.Object, "metadata", "namespace")
	}
	if m.excludeNS[ns] {
		return false
	}
	if m.nsSelector == nil {
		return true
	}
	// ValidatingAdmissionPolicy semantics: a Namespace is matched on its own
	// labels, any other cluster-scoped object always matches.
	switch {
	case kind == "Namespace" && group == "":
		return m.nsSelector.Matches(labels.Set(stringMap(in.Object, "metadata", "labels")))
	case ns == "":
		return true
	}
	return m.nsSelector.Matches(labels.Set(stringMap(in.NamespaceObject, "metadata", "labels")))
}

func groupKindOf(obj map[string]any) (group, kind string) {
	av := str(obj, "apiVersion")
	if i := strings.IndexByte(av, '/'); i >= 0 {
		group = av[:i]
	}
	return group, str(obj, "kind")
}

// field returns the value at path in a decoded JSON object, or nil.
func field(obj map[string]any, path ...string) any {
	var v any = obj
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func str(obj map[string]any, path ...string) string {
	s, _ := field(obj, path...).(string)
	return s
}

func stringMap(obj map[string]any, path ...string) map[string]string {
	m, _ := field(obj, path...).(map[string]any)
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}
