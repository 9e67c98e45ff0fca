package admission

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/policy"
)

// KindResolver maps a kind named in a policy's matchResources to the
// resources (plurals) webhook rules are written in.
type KindResolver interface {
	// Resources returns the group/resource pairs serving kind in group;
	// group "*" means any group. An unknown kind is an error.
	Resources(group, kind string) ([]schema.GroupResource, error)
}

// UnknownKindError is a kind the resolver does not know.
type UnknownKindError struct {
	Group, Kind string
	// Offline is set when only the built-in table was asked.
	Offline bool
}

func (e *UnknownKindError) Error() string {
	where := fmt.Sprintf("group %q", e.Group)
	if e.Group == "*" {
		where = "any group"
	}
	if e.Offline {
		return fmt.Sprintf("kind %s in %s is not a built-in Kubernetes kind; run install with --kubeconfig so that it reads the cluster's API discovery (custom resources), or fix the kind's spelling", e.Kind, where)
	}
	return fmt.Sprintf("kind %s in %s is not served by the cluster (is its CRD installed? is the kind spelled as in its apiVersion/kind?)", e.Kind, where)
}

// BuiltinKinds resolves the kinds of a Kubernetes API server without CRDs.
func BuiltinKinds() KindResolver { return builtinKinds{} }

type builtinKinds struct{}

func (builtinKinds) Resources(group, kind string) ([]schema.GroupResource, error) {
	out := kube.BuiltinResources(group, kind)
	if len(out) == 0 {
		return nil, &UnknownKindError{Group: group, Kind: kind, Offline: true}
	}
	return out, nil
}

// DiscoveryKinds resolves kinds with the API discovery of a cluster, so
// custom resources resolve too.
func DiscoveryKinds(ctx context.Context, dc discovery.DiscoveryInterface) (KindResolver, error) {
	// A group whose discovery fails (an aggregated API that is down) is
	// left out rather than failing the whole lookup: its kinds then
	// resolve as unknown, which names them.
	grs, err := restmapper.GetAPIGroupResourcesWithContext(ctx, discovery.ToDiscoveryInterfaceWithContext(dc))
	if err != nil {
		return nil, fmt.Errorf("read the cluster's API discovery: %w", err)
	}
	groups := make([]string, 0, len(grs))
	for _, g := range grs {
		groups = append(groups, g.Group.Name)
	}
	slices.Sort(groups)
	return &discoveryKinds{mapper: restmapper.NewDiscoveryRESTMapper(grs), groups: groups}, nil
}

type discoveryKinds struct {
	mapper meta.RESTMapper
	groups []string
}

func (d *discoveryKinds) Resources(group, kind string) ([]schema.GroupResource, error) {
	groups := []string{group}
	if group == "*" {
		groups = d.groups
	}
	var out []schema.GroupResource
	for _, g := range groups {
		ms, err := d.mapper.RESTMappings(schema.GroupKind{Group: g, Kind: kind})
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("map kind %s in group %q: %w", kind, g, err)
		}
		for _, m := range ms {
			gr := m.Resource.GroupResource()
			if !slices.Contains(out, gr) {
				out = append(out, gr)
			}
		}
	}
	if len(out) == 0 {
		return nil, &UnknownKindError{Group: group, Kind: kind}
	}
	return out, nil
}

// WorkloadRules are the rules every webhook configuration has: pods (and
// their ephemeral containers) and every kind with a pod template, the
// objects image trust, pod security and digest pinning judge.
func WorkloadRules() []admissionregistrationv1.RuleWithOperations {
	ops := []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
	return []admissionregistrationv1.RuleWithOperations{
		{Operations: ops, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods", "pods/ephemeralcontainers", "replicationcontrollers", "podtemplates"}}},
		{Operations: ops, Rule: admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets"}}},
		{Operations: ops, Rule: admissionregistrationv1.Rule{APIGroups: []string{"batch"}, APIVersions: []string{"v1"}, Resources: []string{"jobs", "cronjobs"}}},
	}
}

// PolicyRules are the webhook rules CEL policies need beyond the workload
// rules: for each policy, apiGroups × kinds × operations of its
// matchResources, mapped to resources by r, merged into one rule per API
// group and set of operations, in a deterministic order. Warnings say
// which policies make the webhook see much more than workloads, or
// declare operations the webhook never judges.
func PolicyRules(ps []*policy.Policy, r KindResolver) (rules []admissionregistrationv1.RuleWithOperations, warnings []string, err error) {
	covered := map[schema.GroupResource]bool{}
	for _, w := range WorkloadRules() {
		for _, res := range w.Resources {
			covered[schema.GroupResource{Group: w.APIGroups[0], Resource: res}] = true
		}
	}
	type key struct{ group, ops string }
	merged := map[key]map[string]bool{}
	var errs []error
	for _, p := range ps {
		mr := p.Doc.Spec.MatchResources
		ops, dropped := webhookOperations(mr.Operations)
		if len(dropped) > 0 {
			warnings = append(warnings, fmt.Sprintf("policy %s: operations %s are never sent to policies (the webhook admits every DELETE and CONNECT); they get no webhook rule", p.ID, strings.Join(dropped, ", ")))
		}
		if len(ops) == 0 {
			continue
		}
		groups, kinds := mr.APIGroups, mr.Kinds
		if len(groups) == 0 || slices.Contains(groups, "*") {
			groups = []string{"*"}
		}
		if len(kinds) == 0 || slices.Contains(kinds, "*") {
			kinds = []string{"*"}
		}
		opsKey := strings.Join(ops, ",")
		add := func(gr schema.GroupResource) {
			if covered[gr] {
				return
			}
			k := key{gr.Group, opsKey}
			if merged[k] == nil {
				merged[k] = map[string]bool{}
			}
			merged[k][gr.Resource] = true
		}
		for _, g := range groups {
			for _, kind := range kinds {
				if kind == "*" {
					where := fmt.Sprintf("of API group %q", g)
					if g == "*" {
						where = "of every API group"
					}
					warnings = append(warnings, fmt.Sprintf("policy %s matches every kind %s: every %s of them is sent to the webhook; name its kinds in matchResources to keep that load off", p.ID, where, strings.Join(ops, " and ")))
					add(schema.GroupResource{Group: g, Resource: "*"})
					continue
				}
				grs, err := r.Resources(g, kind)
				if err != nil {
					errs = append(errs, fmt.Errorf("policy %s (%s:%d): %w", p.ID, p.File, p.Line, err))
					continue
				}
				for _, gr := range grs {
					add(gr)
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	keys := slices.SortedFunc(maps.Keys(merged), func(a, b key) int {
		return cmp.Or(cmp.Compare(a.group, b.group), cmp.Compare(a.ops, b.ops))
	})
	for _, k := range keys {
		res := slices.Sorted(maps.Keys(merged[k]))
		if merged[k]["*"] {
			res = []string{"*"} // "*" already covers the rest of the group
		}
		var ops []admissionregistrationv1.OperationType
		for _, op := range strings.Split(k.ops, ",") {
			ops = append(ops, admissionregistrationv1.OperationType(op))
		}
		rules = append(rules, admissionregistrationv1.RuleWithOperations{
			Operations: ops,
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{k.group}, APIVersions: []string{"*"}, Resources: res},
		})
	}
	return rules, warnings, nil
}

// webhookOperations returns the operations of a matchResources the webhook
// must be sent (CREATE and UPDATE by default, and for "*"), and those it
// drops: the engine admits DELETE and CONNECT without judging them, so
// routing them would only add load.
func webhookOperations(ops []string) (kept, dropped []string) {
	if len(ops) == 0 || slices.Contains(ops, "*") {
		return []string{"CREATE", "UPDATE"}, nil
	}
	for _, op := range []string{"CREATE", "UPDATE"} {
		if slices.Contains(ops, op) {
			kept = append(kept, op)
		}
	}
	for _, op := range []string{"CONNECT", "DELETE"} {
		if slices.Contains(ops, op) {
			dropped = append(dropped, op)
		}
	}
	return kept, dropped
}

// Policies are the CEL policies palisade.yaml enables, and what install
// could not read.
type Policies struct {
	Policies []*policy.Policy
	// ParamsRefs are the params ConfigMaps install grants and serve
	// watches from start-up: those of the built-in and file policies.
	// Policies of policy ConfigMaps resolve theirs at run time, in their
	// policy ConfigMap's namespace (policy.ParamsWatcher).
	ParamsRefs []policy.ConfigMapRef
	// Warnings name sources that were left out (policy ConfigMaps without
	// a cluster).
	Warnings []string
}

// LoadPolicies returns the CEL policies admission.policies enables: the
// selected built-ins, the policy files and, when kube is set, the policies
// of the policy ConfigMaps as they are now.
func LoadPolicies(ctx context.Context, ps config.Policies, kube kubernetes.Interface, logger *slog.Logger) (*Policies, error) {
	sel := policySelection(ps)
	loaded, err := policy.Load(ctx, sel)
	if err != nil {
		return nil, fmt.Errorf("admission.policies: %w", err)
	}
	out := &Policies{Policies: loaded, ParamsRefs: policy.ParamsRefs(loaded)}
	if len(ps.ConfigMaps) == 0 {
		return out, nil
	}
	if kube == nil {
		out.Warnings = append(out.Warnings, "admission.policies.configMaps are not read without a cluster (--kubeconfig): their policies' kinds other than workloads get no webhook rule")
		return out, nil
	}
	src := policy.NewConfigMapSource(kube, configMapRefs(ps), 0, ps.Disabled, sel.Modes, logger)
	if err := src.Refresh(ctx, true); err != nil {
		return nil, fmt.Errorf("admission.policies.configMaps: %w", err)
	}
	out.Policies = append(out.Policies, src.Policies()...)
	return out, nil
}

// configMapRefs are the policy ConfigMaps admission.policies names.
func configMapRefs(ps config.Policies) []policy.ConfigMapRef {
	refs := make([]policy.ConfigMapRef, len(ps.ConfigMaps))
	for i, r := range ps.ConfigMaps {
		refs[i] = policy.ConfigMapRef{Namespace: r.Namespace, Name: r.Name}
	}
	return refs
}

// policySelection is the policy.Selection of admission.policies; nil
// Builtin means the whole library.
func policySelection(ps config.Policies) policy.Selection {
	sel := policy.Selection{Builtin: ps.Builtin, Disabled: ps.Disabled, Files: ps.Files, Lenient: len(ps.ConfigMaps) > 0}
	if ps.Builtin == nil {
		sel.Builtin = []string{"all"}
	}
	if len(ps.Modes) > 0 {
		sel.Modes = make(map[string]policy.Mode, len(ps.Modes))
		for id, m := range ps.Modes {
			sel.Modes[id] = policy.Mode(m)
		}
	}
	return sel
}
