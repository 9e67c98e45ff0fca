package rbac

import (
	"iter"
	"slices"
)

// Index finds the bindings that name a user or group without reading
// every binding, for callers that resolve many identities against one
// engine (every workload's service account): Engine.RulesFor of n
// identities over n bindings reads n² subjects, an index reads each
// identity's own bindings only.
type Index struct {
	e *Engine
	// byUser maps a user name (a service account by its user name,
	// system:serviceaccount:NS:NAME) and byGroup a group name to the
	// indices of the bindings naming it, ascending.
	byUser, byGroup map[string][]int
}

// Index returns the subject index of e.
func (e *Engine) Index() *Index {
	x := &Index{e: e, byUser: map[string][]int{}, byGroup: map[string][]int{}}
	add := func(m map[string][]int, k string, i int) {
		if l := m[k]; len(l) == 0 || l[len(l)-1] != i {
			m[k] = append(l, i)
		}
	}
	for i := range e.bindings {
		b := &e.bindings[i]
		for _, s := range b.subjects {
			switch s.Kind {
			case KindUser:
				add(x.byUser, s.Name, i)
			case KindGroup:
				add(x.byGroup, s.Name, i)
			case KindServiceAccount:
				ns := s.Namespace
				if ns == "" {
					ns = b.ns
				}
				add(x.byUser, saUserPrefix+ns+":"+s.Name, i)
			}
		}
	}
	return x
}

// RulesFor returns what Engine.RulesFor returns for id, in the same order.
func (x *Index) RulesFor(id Identity) []Grant { return slices.Collect(x.Rules(id)) }

// Rules yields what RulesFor returns, without collecting it: a caller
// that keeps few of an identity's grants (every workload's service
// account has the grants of system:authenticated) copies no others.
func (x *Index) Rules(id Identity) iter.Seq[Grant] {
	return func(yield func(Grant) bool) {
		var idx []int
		if id.Name != "" {
			idx = append(idx, x.byUser[id.Name]...)
		}
		for _, g := range id.Groups {
			idx = append(idx, x.byGroup[g]...)
		}
		slices.Sort(idx)
		idx = slices.Compact(idx)
		for _, i := range idx {
			b := &x.e.bindings[i]
			for _, s := range b.subjects {
				if !covers(s, b.ns, id) {
					continue
				}
				for j, r := range b.rules {
					if !yield(b.grant(s, j, r)) {
						return
					}
				}
				break // as RulesFor: the first subject that applies
			}
		}
	}
}
