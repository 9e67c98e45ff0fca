package checks

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// writeVerbs are the verbs that change or remove objects. impersonate is
// not among them: it applies only to users, groups, service accounts, uids
// and userextras, and on any other resource grants nothing.
var writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}

// grantingRules calls f for each rule of a non-built-in Role or
// ClusterRole that grants one of gs (level is builtIn's) and collects the
// results; it is roleGrants for checks whose results depend on the rule
// (severity, evidence).
func grantingRules(in *posture.Input, level exemption, gs []grant, f func(i int, rule rbacv1.PolicyRule) posture.Result) []posture.Result {
	o := in.Object
	if builtIn(o, level) {
		return nil
	}
	var out []posture.Result
	for i, rule := range rulesOf(o) {
		for _, g := range gs {
			if g.matches(rule, level) {
				out = append(out, f(i, rule))
				break
			}
		}
	}
	return out
}

// grantResult is the result roleGrants reports for rule i of o granting what.
func grantResult(o *kube.Object, i int, rule rbacv1.PolicyRule, what string) posture.Result {
	return posture.Result{
		Path:     []string{"rules", itoa(i)},
		Message:  o.Ref.Kind + " " + o.Ref.Name + " rule " + itoa(i) + " grants " + what + " (verbs " + strings.Join(rule.Verbs, ",") + " on " + strings.Join(rule.Resources, ",") + ").",
		Evidence: ruleEvidence(i, rule),
	}
}

// mayReachNamespace reports whether role o can grant anything in namespace
// ns: a ClusterRole can (through a ClusterRoleBinding, or a RoleBinding in
// ns), a Role only in its own namespace. A Role without a namespace, as
// in a manifest applied with -n, may be applied anywhere.
func mayReachNamespace(o *kube.Object, ns string) bool {
	return o.Ref.Kind == "ClusterRole" || o.Ref.Namespace == "" || o.Ref.Namespace == ns
}

// boundIn reports whether the scanned objects show role o granted in
// namespace ns: o is a Role there, or a ClusterRole that a
// ClusterRoleBinding or a RoleBinding in ns refers to.
func boundIn(in *posture.Input, o *kube.Object, ns string) bool {
	if o.Ref.Kind == "Role" {
		return o.Ref.Namespace == ns
	}
	for _, kind := range bindingKinds {
		for _, b := range in.Inventory.OfKind(kind) {
			_, ref, ok := subjectsOf(b)
			if !ok || ref.Kind != "ClusterRole" || ref.Name != o.Ref.Name {
				continue
			}
			if kind == "ClusterRoleBinding" || b.Ref.Namespace == ns {
				return true
			}
		}
	}
	return false
}

// namesObject reports whether rule reaches the object called name with
// one of verbs: an unrestricted rule reaches every object; a rule limited
// by resourceNames reaches the names it lists, and never with create or
// deletecollection, whose requests carry no name to match. level is
// builtIn's, for how verbs match.
func namesObject(rule rbacv1.PolicyRule, name string, verbs []string, level exemption) bool {
	in := matcher(level)
	if len(rule.ResourceNames) == 0 {
		return in(rule.Verbs, verbs)
	}
	if !slices.Contains(rule.ResourceNames, name) {
		return false
	}
	named := slices.DeleteFunc(slices.Clone(verbs), func(v string) bool { return v == "create" || v == "deletecollection" })
	return in(rule.Verbs, named)
}
