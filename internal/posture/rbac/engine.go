package rbac

import (
	"fmt"
	"reflect"
	"slices"
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/palisade-sec/palisade/internal/kube"
)

// ObjectRef names a binding or role.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String returns "Kind/namespace/name", or "Kind/name" when cluster-scoped.
func (r ObjectRef) String() string {
	return kube.Ref{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}.String()
}

func refOf(r kube.Ref) ObjectRef {
	return ObjectRef{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// Grant is one rule a subject holds, and the path that grants it:
// binding → role → rule.
type Grant struct {
	// Subject is the binding's subject the grant reaches: the user, a group
	// it is in, or the service account.
	Subject Subject `json:"subject"`
	// Binding is the RoleBinding or ClusterRoleBinding.
	Binding ObjectRef `json:"binding"`
	// Role is the Role or ClusterRole bound.
	Role ObjectRef `json:"role"`
	// Namespace is where the grant applies; "" means cluster-wide.
	Namespace string `json:"namespace,omitempty"`
	// Rule is the rule, RuleIndex its index among the role's effective
	// rules, and AggregatedFrom the ClusterRole it was aggregated from,
	// if the role is an aggregated one.
	Rule           rbacv1.PolicyRule `json:"rule"`
	RuleIndex      int               `json:"ruleIndex"`
	AggregatedFrom string            `json:"aggregatedFrom,omitempty"`
}

// clusterAdmin is the built-in ClusterRole New supplies when the input lacks it.
const clusterAdmin = "cluster-admin"

// rule is a role's effective rule and where it came from.
type rule struct {
	rbacv1.PolicyRule
	from string // the ClusterRole it was aggregated from, or ""
}

type binding struct {
	ref      ObjectRef
	ns       string // "" for a ClusterRoleBinding
	role     ObjectRef
	rules    []rule
	subjects []Subject
}

// Engine answers who holds which permission in one inventory. It is
// immutable once built and safe for concurrent use.
type Engine struct {
	bindings []binding
	warnings []string
}

// New builds the engine of the RBAC objects of inv; cluster-admin has its
// built-in rules when inv does not hold it. Aggregated
// ClusterRoles get the rules of every ClusterRole their selectors match,
// as the controller manager's aggregation controller would write them
// (transitively), besides any rules they list themselves. A binding to a
// role that is not in inv grants nothing and is named in Warnings.
func New(inv *kube.Inventory) (*Engine, error) {
	roles := map[[2]string]*rbacv1.Role{}
	for _, o := range inv.OfKind("Role") {
		if r, ok := o.Typed.(*rbacv1.Role); ok {
			// A namespace-less Role or RoleBinding is default's, as
			// applied; read as cluster-wide, its grants would be reported
			// everywhere.
			roles[[2]string{kube.AppliedNamespace(o.Meta.Namespace), o.Meta.Name}] = r
		}
	}
	crs := map[string]*rbacv1.ClusterRole{}
	var crNames []string
	for _, o := range inv.OfKind("ClusterRole") {
		if r, ok := o.Typed.(*rbacv1.ClusterRole); ok {
			if _, dup := crs[o.Meta.Name]; !dup {
				crNames = append(crNames, o.Meta.Name)
			}
			crs[o.Meta.Name] = r
		}
	}
	// Manifests bind cluster-admin without declaring it: every cluster has
	// it, with these rules (k8s.io/kubernetes bootstrap policy).
	if _, ok := crs[clusterAdmin]; !ok {
		crs[clusterAdmin] = &rbacv1.ClusterRole{Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{rbacv1.APIGroupAll}, Resources: []string{rbacv1.ResourceAll}, Verbs: []string{rbacv1.VerbAll}},
			{NonResourceURLs: []string{rbacv1.NonResourceAll}, Verbs: []string{rbacv1.VerbAll}},
		}}
		crNames = append(crNames, clusterAdmin)
	}
	sort.Strings(crNames)
	agg := &aggregator{roles: crs, names: crNames, done: map[string][]rule{}, busy: map[string]bool{}}
	e := &Engine{}
	for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
		for _, o := range inv.OfKind(kind) {
			var subjects []rbacv1.Subject
			var ref rbacv1.RoleRef
			ns := ""
			switch b := o.Typed.(type) {
			case *rbacv1.ClusterRoleBinding:
				subjects, ref = b.Subjects, b.RoleRef
			case *rbacv1.RoleBinding:
				subjects, ref, ns = b.Subjects, b.RoleRef, kube.AppliedNamespace(o.Meta.Namespace)
			default:
				continue
			}
			b := binding{ref: refOf(o.Ref), ns: ns}
			switch ref.Kind {
			case "ClusterRole":
				b.role = ObjectRef{Kind: "ClusterRole", Name: ref.Name}
				rules, err := agg.rulesOf(ref.Name)
				if err != nil {
					return nil, fmt.Errorf("rbac of %s: %w", o.Ref, err)
				}
				if _, ok := crs[ref.Name]; !ok {
					e.warnings = append(e.warnings, fmt.Sprintf("%s binds ClusterRole %s, which is not in the input: it grants nothing here (list the cluster's roles with --kubeconfig, or add the role)", o.Ref, ref.Name))
				}
				b.rules = rules
			case "Role":
				if ns == "" {
					e.warnings = append(e.warnings, fmt.Sprintf("%s refers to a Role, which only a RoleBinding can bind", o.Ref))
					continue
				}
				b.role = ObjectRef{Kind: "Role", Namespace: ns, Name: ref.Name}
				r, ok := roles[[2]string{ns, ref.Name}]
				if !ok {
					e.warnings = append(e.warnings, fmt.Sprintf("%s binds Role %s/%s, which is not in the input: it grants nothing here", o.Ref, ns, ref.Name))
					continue
				}
				for _, pr := range r.Rules {
					b.rules = append(b.rules, rule{PolicyRule: pr})
				}
			default:
				e.warnings = append(e.warnings, fmt.Sprintf("%s: unknown roleRef kind %q", o.Ref, ref.Kind))
				continue
			}
			for _, s := range subjects {
				b.subjects = append(b.subjects, Subject{Kind: s.Kind, Name: s.Name, Namespace: s.Namespace})
			}
			e.bindings = append(e.bindings, b)
		}
	}
	return e, nil
}

// Warnings returns what the engine could not resolve, such as bindings to
// roles that were not in the inventory.
func (e *Engine) Warnings() []string { return e.warnings }

// aggregator resolves the effective rules of ClusterRoles, memoized.
type aggregator struct {
	roles map[string]*rbacv1.ClusterRole
	names []string // sorted, for a deterministic rule order
	done  map[string][]rule
	busy  map[string]bool
}

// rulesOf returns the effective rules of ClusterRole name: its own, then
// those of the roles its aggregationRule selects, without duplicates. A
// cycle of aggregated roles ends where it closes, as the controller's
// repeated passes would settle.
func (a *aggregator) rulesOf(name string) ([]rule, error) {
	if rs, ok := a.done[name]; ok {
		return rs, nil
	}
	cr, ok := a.roles[name]
	if !ok || a.busy[name] {
		return nil, nil
	}
	a.busy[name] = true
	defer delete(a.busy, name)
	var out []rule
	for _, pr := range cr.Rules {
		out = appendRule(out, rule{PolicyRule: pr})
	}
	if cr.AggregationRule != nil {
		for _, sel := range cr.AggregationRule.ClusterRoleSelectors {
			s, err := metav1.LabelSelectorAsSelector(&sel)
			if err != nil {
				return nil, fmt.Errorf("ClusterRole %s aggregationRule: %w", name, err)
			}
			if s.Empty() {
				// The controller ignores selectors that would match every role.
				continue
			}
			for _, other := range a.names {
				if other == name || !s.Matches(labels.Set(a.roles[other].Labels)) {
					continue
				}
				rs, err := a.rulesOf(other)
				if err != nil {
					return nil, err
				}
				for _, r := range rs {
					if r.from == "" {
						r.from = other
					}
					out = appendRule(out, r)
				}
			}
		}
	}
	a.done[name] = out
	return out, nil
}

func appendRule(rs []rule, r rule) []rule {
	for _, have := range rs {
		if reflect.DeepEqual(have.PolicyRule, r.PolicyRule) {
			return rs
		}
	}
	return append(rs, r)
}

// RulesFor returns every rule id holds and the bindings that grant them,
// cluster-wide grants first, in binding order.
func (e *Engine) RulesFor(id Identity) []Grant {
	var out []Grant
	for _, b := range e.bindings {
		for _, s := range b.subjects {
			if !covers(s, b.ns, id) {
				continue
			}
			for i, r := range b.rules {
				out = append(out, b.grant(s, i, r))
			}
			break // one subject is enough: the same rules again add nothing
		}
	}
	return out
}

// Allows reports whether id may perform r, and the grants that allow it.
func (e *Engine) Allows(id Identity, r Request) (bool, []Grant) {
	var out []Grant
	for _, g := range e.RulesFor(id) {
		if applies(g.Namespace, r) && RuleAllows(&g.Rule, r) {
			out = append(out, g)
		}
	}
	return len(out) > 0, out
}

// WhoCan returns the grants, one per binding subject, binding and rule,
// that allow r: the subjects as bindings name them (a group covers its
// members).
func (e *Engine) WhoCan(r Request) []Grant {
	var out []Grant
	for _, b := range e.bindings {
		if !applies(b.ns, r) {
			continue
		}
		for i, rl := range b.rules {
			if !RuleAllows(&rl.PolicyRule, r) {
				continue
			}
			for _, s := range b.subjects {
				out = append(out, b.grant(s, i, rl))
			}
		}
	}
	return out
}

// applies reports whether a grant in namespace ns ("" cluster-wide) can
// authorize r: RoleBindings only authorize resource requests in their own
// namespace, never cluster-scoped or non-resource requests.
func applies(ns string, r Request) bool {
	return ns == "" || (!r.NonResource() && r.Namespace == ns)
}

func (b *binding) grant(s Subject, i int, r rule) Grant {
	if s.Kind == KindServiceAccount && s.Namespace == "" {
		s.Namespace = b.ns
	}
	return Grant{Subject: s, Binding: b.ref, Role: b.role, Namespace: b.ns, Rule: r.PolicyRule, RuleIndex: i, AggregatedFrom: r.from}
}

// Subjects returns the distinct subjects of grants, in order of first appearance.
func Subjects(gs []Grant) []Subject {
	var out []Subject
	for _, g := range gs {
		if !slices.Contains(out, g.Subject) {
			out = append(out, g.Subject)
		}
	}
	return out
}
