package checks

// NSA/CISA Kubernetes Hardening Guide, "Protecting Pod service account
// tokens", CIS Kubernetes Benchmark 5.1.6 ("Ensure that Service Account
// Tokens are only mounted where necessary") and MITRE ATT&CK T1528 (Steal
// Application Access Token) / T1078 (Valid Accounts): what an attacker who
// compromises a container holds is the pod's service-account token. The
// rbac-* checks report a dangerous grant on the role and the binding; this
// check reports the workloads that actually carry it — the first thing to
// fix — with the path workload → ServiceAccount → binding → role → rule.
//
// A grant counts as a cluster takeover when it lets the token become
// cluster-admin or read what would (Kubernetes' own "privilege escalation"
// list, https://kubernetes.io/docs/concepts/security/rbac-good-practices/):
// `*` on `*`, bind or escalate roles, impersonate, create or change pods and
// their controllers, create service-account tokens; and, only cluster-wide
// or in kube-system (where the controllers' tokens live), read secrets and
// exec into pods; cluster-wide only (they are cluster-scoped): nodes/proxy,
// CSR approval and webhook configurations.
//
// Scope decides severity. Cluster-wide or in kube-system: critical. In
// another namespace: high. In the workload's own namespace: medium, and
// only when that namespace does not enforce the baseline or restricted Pod
// Security Standard — a token that can start pods in its own namespace can
// start a privileged one with the node's root filesystem mounted, which is
// the node and every token on it; with Pod Security Admission enforcing
// baseline it can only run unprivileged pods as the namespace's service
// accounts, which is lateral movement inside the namespace, not a takeover.

import (
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/rbac"
)

// WorkloadTokenTakeover reports workloads whose mounted service-account
// token holds cluster-takeover grants.
func WorkloadTokenTakeover() posture.Check {
	return posture.Check{
		ID:          "workload-token-takeover",
		Title:       "Workload's service-account token can take over the cluster",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityCritical,
		Category:    "rbac",
		Rationale:   "Whoever compromises a container holds its service-account token; a token that can create pods, read secrets cluster-wide, bind roles or impersonate turns one application bug into control of the cluster.",
		Remediation: "Remove the grant from the service account (narrow the binding to the namespace and verbs it needs), give the workload its own service account, or set automountServiceAccountToken: false if it does not call the API.",
		// One evaluation per scan: the RBAC engine is built once and every
		// workload's service account is resolved against it.
		Scope: posture.ScopeInventory,
		Kinds: tokenWorkloadKinds,
		// New in behaviour version 5: scans pinned to 4 or older leave it out.
		Versions: []posture.Versioned{{MinVersion: 5, Eval: workloadTokenTakeover}},
	}
}

// tokenWorkloadKinds are the kinds whose objects hold a pod spec (kube.WorkloadOf).
var tokenWorkloadKinds = append(kube.PodKinds(), "DeploymentConfig", "PodTemplate")

// takeover is a kind of grant that takes over the cluster.
type takeover struct {
	name     string
	requests []rbac.Request
	// broadOnly grants count only cluster-wide or in kube-system: reading
	// the secrets of one ordinary namespace is not a takeover.
	broadOnly bool
}

// takeovers lists the grants the check reports, worst first (the first one
// found is a finding's key grant).
var takeovers = func() []takeover {
	r := func(verb, group, resource, sub string) rbac.Request {
		return rbac.Request{Verb: verb, APIGroup: group, Resource: resource, Subresource: sub}
	}
	var pods []rbac.Request
	for _, verb := range []string{"create", "update", "patch"} {
		pods = append(pods, r(verb, "", "pods", ""), r(verb, "", "replicationcontrollers", ""),
			r(verb, "apps", "deployments", ""), r(verb, "apps", "replicasets", ""), r(verb, "apps", "statefulsets", ""),
			r(verb, "apps", "daemonsets", ""), r(verb, "batch", "jobs", ""), r(verb, "batch", "cronjobs", ""))
	}
	var webhooks []rbac.Request
	for _, verb := range []string{"create", "update", "patch"} {
		webhooks = append(webhooks, r(verb, "admissionregistration.k8s.io", "mutatingwebhookconfigurations", ""),
			r(verb, "admissionregistration.k8s.io", "validatingwebhookconfigurations", ""))
	}
	const rbacGroup = "rbac.authorization.k8s.io"
	return []takeover{
		{name: "escalate", requests: []rbac.Request{r("bind", rbacGroup, "clusterroles", ""), r("bind", rbacGroup, "roles", ""),
			r("escalate", rbacGroup, "clusterroles", ""), r("escalate", rbacGroup, "roles", "")}},
		{name: "impersonate", requests: []rbac.Request{r("impersonate", "", "users", ""), r("impersonate", "", "groups", ""),
			r("impersonate", "", "serviceaccounts", "")}},
		{name: "nodes-proxy", requests: []rbac.Request{r("get", "", "nodes", "proxy"), r("create", "", "nodes", "proxy")}},
		{name: "csr-approval", requests: []rbac.Request{r("update", "certificates.k8s.io", "certificatesigningrequests", "approval"),
			r("approve", "certificates.k8s.io", "signers", "")}},
		{name: "webhook-config", requests: webhooks},
		{name: "secrets-read", requests: []rbac.Request{r("get", "", "secrets", ""), r("list", "", "secrets", ""), r("watch", "", "secrets", "")}, broadOnly: true},
		{name: "pod-create", requests: pods},
		{name: "token-create", requests: []rbac.Request{r("create", "", "serviceaccounts", "token")}},
		{name: "pods-exec", requests: []rbac.Request{r("create", "", "pods", "exec"), r("get", "", "pods", "exec"), r("create", "", "pods", "attach")}, broadOnly: true},
	}
}()

// tokenClusterScoped are the resources of takeover requests that a RoleBinding
// cannot grant: the API server asks about them with no namespace.
var tokenClusterScoped = map[string]bool{"users": true, "groups": true, "nodes": true, "certificatesigningrequests": true,
	"signers": true, "mutatingwebhookconfigurations": true, "validatingwebhookconfigurations": true}

// tokenGrantAdmin names a rule of every verb on every resource (of the core or
// every API group): cluster-admin, or admin of a namespace.
const tokenGrantAdmin = "admin"

// The scopes of a grant, by how much of the cluster it reaches.
const (
	tokenScopeCluster    = "cluster"
	tokenScopeKubeSystem = "kube-system"
	tokenScopeOther      = "other-namespace"
	tokenScopeOwn        = "own-namespace"
)

// tokenGrant is one takeover grant of a service account.
type tokenGrant struct {
	name  string // a takeovers name, or tokenGrantAdmin
	scope string
	sev   finding.Severity
	g     rbac.Grant
}

// workloadTokenTakeover evaluates every workload of the inventory against
// one RBAC engine per cluster, resolving each service account once.
func workloadTokenTakeover(in *posture.Input) []posture.Result {
	tokens, errs := takeoverTokens(in.Inventory)
	out := slices.Clone(errs) // errs is shared with the inventory's other readers
	for _, t := range tokens {
		out = append(out, tokenResult(t.w, t.sa, t.ns, t.grants))
	}
	return out
}

// workloadToken is a workload whose mounted token holds takeover grants.
type workloadToken struct {
	w      *kube.Workload
	sa, ns string
	grants []tokenGrant // most severe first
}

// takeoverTokens returns, in workload order, the workloads of inv whose
// mounted service-account token holds takeover grants, with one RBAC
// engine per cluster and each service account resolved once; and an info
// result for a cluster whose RBAC could not be resolved. It is resolved
// once per inventory: workload-token-takeover and internet-exposed-workload
// both read it.
func takeoverTokens(inv *kube.Inventory) ([]workloadToken, []posture.Result) {
	r := inv.Derived(takeoverKey{}, func() any {
		tokens, errs := resolveTakeoverTokens(inv)
		return takeoverSet{tokens, errs}
	}).(takeoverSet)
	return r.tokens, r.errs
}

// takeoverKey names takeoverTokens' result among an inventory's derived values.
type takeoverKey struct{}

type takeoverSet struct {
	tokens []workloadToken
	errs   []posture.Result
}

func resolveTakeoverTokens(inv *kube.Inventory) ([]workloadToken, []posture.Result) {
	if len(inv.Workloads) == 0 || (len(inv.OfKind("RoleBinding")) == 0 && len(inv.OfKind("ClusterRoleBinding")) == 0) {
		return nil, nil
	}
	// An inventory may hold several clusters: each has its own RBAC,
	// namespaces and service accounts.
	clusters := map[string]*clusterTokens{}
	of := func(o *kube.Object) *clusterTokens {
		c := clusters[o.Source.Cluster]
		if c == nil {
			c = &clusterTokens{bindings: map[kube.Ref]*kube.Object{}, enforced: map[string]bool{},
				automount: map[[2]string]*bool{}, resolved: map[[2]string][]tokenGrant{}}
			clusters[o.Source.Cluster] = c
		}
		return c
	}
	for _, kind := range []string{"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"} {
		for _, o := range inv.OfKind(kind) {
			c := of(o)
			c.rbac = append(c.rbac, o)
			if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
				c.bindings[kube.Ref{Kind: o.Ref.Kind, Namespace: o.Ref.Namespace, Name: o.Ref.Name}] = o
			}
		}
	}
	for _, o := range inv.OfKind("Namespace") {
		switch o.Meta.Labels[psaEnforceLabel] {
		case "baseline", "restricted":
			of(o).enforced[o.Meta.Name] = true
		}
	}
	for _, o := range inv.OfKind("ServiceAccount") {
		if sa, ok := o.Typed.(*corev1.ServiceAccount); ok {
			of(o).automount[[2]string{kube.AppliedNamespace(o.Meta.Namespace), o.Meta.Name}] = sa.AutomountServiceAccountToken
		}
	}
	var tokens []workloadToken
	var errs []posture.Result
	for _, w := range inv.Workloads {
		c := clusters[w.Object.Source.Cluster]
		if c == nil || len(c.bindings) == 0 {
			continue
		}
		if c.idx == nil && c.err == nil {
			var e *rbac.Engine
			if e, c.err = rbac.New(kube.NewInventory(c.rbac)); c.err == nil {
				// Resolving each service account against every binding
				// grows with their product; the index reads each
				// account's own bindings only.
				c.idx = e.Index()
			} else {
				// Only an aggregationRule selector the API server would
				// refuse gets here; say so rather than pass silently.
				errs = append(errs, posture.Result{Ref: kube.Ref{Kind: "ClusterRole"}, At: c.rbac[0], Severity: finding.SeverityInfo,
					Message:  "Service-account grants could not be resolved: " + c.err.Error() + ".",
					Evidence: []finding.Evidence{key("error", "rbac")}})
			}
		}
		if c.err != nil {
			continue
		}
		ns := kube.AppliedNamespace(w.Object.Meta.Namespace)
		sa := w.PodSpec.ServiceAccountName
		if sa == "" {
			sa = w.PodSpec.DeprecatedServiceAccount
		}
		if sa == "" {
			sa = "default"
		}
		id := [2]string{ns, sa}
		if !tokenMounted(w.PodSpec, c.automount[id]) {
			continue
		}
		gs, ok := c.resolved[id]
		if !ok {
			gs = takeoverGrants(c.idx, rbac.Subject{Kind: rbac.KindServiceAccount, Namespace: ns, Name: sa}, c.bindings, c.enforced)
			c.resolved[id] = gs
		}
		if len(gs) > 0 {
			tokens = append(tokens, workloadToken{w: w, sa: sa, ns: ns, grants: gs})
		}
	}
	return tokens, errs
}

// clusterTokens is what the check knows of one cluster of the inventory.
type clusterTokens struct {
	rbac      []*kube.Object            // its Roles, ClusterRoles and bindings
	bindings  map[kube.Ref]*kube.Object // its bindings, for builtIn
	enforced  map[string]bool           // namespaces enforcing baseline or restricted
	automount map[[2]string]*bool       // (namespace, name) → the ServiceAccount's setting
	idx       *rbac.Index               // built on the first workload of the cluster
	err       error
	resolved  map[[2]string][]tokenGrant // (namespace, service account) → its takeover grants
}

// tokenMounted reports whether the pod's containers get a service-account
// token: automounted unless the pod, or else its service account (saSetting),
// says false; or requested through a projected serviceAccountToken volume.
func tokenMounted(spec *corev1.PodSpec, saSetting *bool) bool {
	setting := spec.AutomountServiceAccountToken
	if setting == nil {
		setting = saSetting
	}
	if setting == nil || *setting {
		return true
	}
	for _, v := range spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if s.ServiceAccountToken != nil {
				return true
			}
		}
	}
	return false
}

// takeoverGrants returns the takeover grants of service account s, one per
// (grant name, binding, role, rule), most severe first. Grants through
// Kubernetes' own bootstrap bindings are left out, as the rbac-* checks
// leave them out (builtIn at its newest level).
func takeoverGrants(idx *rbac.Index, s rbac.Subject, bindings map[kube.Ref]*kube.Object, enforced map[string]bool) []tokenGrant {
	var out []tokenGrant
	for g := range idx.Rules(rbac.IdentityOf(s)) {
		if b := bindings[kube.Ref{Kind: g.Binding.Kind, Namespace: g.Binding.Namespace, Name: g.Binding.Name}]; b != nil && builtIn(b, exemptLabelled) {
			continue
		}
		scope := tokenScopeCluster
		grantNS := g.Namespace // the engine reads a namespace-less RoleBinding as default's
		if g.Binding.Kind == "RoleBinding" {
			switch {
			case grantNS == "kube-system":
				scope = tokenScopeKubeSystem
			case grantNS != s.Namespace:
				scope = tokenScopeOther
			default:
				scope = tokenScopeOwn
			}
		}
		if scope == tokenScopeOwn && enforced[grantNS] {
			continue
		}
		name := takeoverOf(g.Rule, scope)
		if name == "" {
			continue
		}
		out = append(out, tokenGrant{name: name, scope: scope, sev: tokenScopeSeverity(scope), g: g})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].sev != out[j].sev {
			return out[i].sev > out[j].sev
		}
		return takeoverRank(out[i].name) < takeoverRank(out[j].name)
	})
	return out
}

// takeoverOf returns the worst takeover rule grants at scope, or "".
func takeoverOf(rule rbacv1.PolicyRule, scope string) string {
	// A rule limited to resourceNames still grants the permission on
	// those objects (as rbac.Dangerous counts it).
	rule.ResourceNames = nil
	broad := scope == tokenScopeCluster || scope == tokenScopeKubeSystem
	if tokenHasAny(rule.Verbs, rbacv1.VerbAll) && tokenHasAny(rule.Resources, rbacv1.ResourceAll) && tokenHasAny(rule.APIGroups, "", rbacv1.APIGroupAll) {
		return tokenGrantAdmin
	}
	for _, t := range takeovers {
		if t.broadOnly && !broad {
			continue
		}
		for _, r := range t.requests {
			if scope != tokenScopeCluster && tokenClusterScoped[r.Resource] {
				continue
			}
			if rbac.RuleAllows(&rule, r) {
				return t.name
			}
		}
	}
	return ""
}

// tokenHasAny reports whether have lists one of want, literally.
func tokenHasAny(have []string, want ...string) bool {
	return slices.ContainsFunc(have, func(h string) bool { return slices.Contains(want, h) })
}

// takeoverRank orders grant names: admin, then takeovers' order.
func takeoverRank(name string) int {
	if name == tokenGrantAdmin {
		return 0
	}
	for i, t := range takeovers {
		if t.name == name {
			return i + 1
		}
	}
	return len(takeovers) + 1
}

func tokenScopeSeverity(scope string) finding.Severity {
	switch scope {
	case tokenScopeCluster, tokenScopeKubeSystem:
		return finding.SeverityCritical
	case tokenScopeOther:
		return finding.SeverityHigh
	}
	return finding.SeverityMedium
}

// tokenResult is the finding of workload w running as service account sa
// of namespace ns with grants gs (most severe first): keyed by the service
// account and the worst grant, with every grant's path as evidence.
func tokenResult(w *kube.Workload, sa, ns string, gs []tokenGrant) posture.Result {
	first := gs[0]
	var names, paths []string
	for _, g := range gs {
		if !slices.Contains(names, g.name) {
			names = append(names, g.name)
		}
		// The same binding and role met twice (a chart rendered alone and
		// as another's dependency under one release name) is one path.
		if p := tokenGrantPath(g); !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	ref := w.Object.Ref
	msg := ref.Kind + " " + kube.AppliedNamespace(ref.Namespace) + "/" + ref.Name + " mounts the token of ServiceAccount " + ns + "/" + sa + ": " + paths[0] + "."
	if more := len(paths) - 1; more > 0 {
		msg += " " + itoa(more) + " more grant"
		if more > 1 {
			msg += "s"
		}
		msg += " (" + strings.Join(names, ", ") + " in all)."
	}
	path := w.SpecPath
	if w.PodSpec.ServiceAccountName != "" {
		path = append(append([]string{}, w.SpecPath...), "serviceAccountName")
	}
	return posture.Result{
		Object:   w.Object,
		Path:     path,
		Severity: first.sev,
		Message:  msg,
		Evidence: []finding.Evidence{
			key("serviceAccount", ns+"/"+sa),
			key("grant", first.name),
			ev("scope", first.scope),
			ev("binding", first.g.Binding.String()),
			ev("role", first.g.Role.String()),
			ev("grants", strings.Join(names, ",")),
			ev("paths", strings.Join(paths, "; ")),
		},
	}
}

// tokenGrantPath is "<grant> <where> via <binding> → <role> rule <i> (<verbs> on
// <resources>)": the path from the service account to the rule to change.
func tokenGrantPath(g tokenGrant) string {
	where := "cluster-wide"
	if g.scope != tokenScopeCluster {
		where = "in namespace " + g.g.Namespace
	}
	role := g.g.Role.String()
	if g.g.AggregatedFrom != "" {
		role += " (aggregated from ClusterRole " + g.g.AggregatedFrom + ")"
	}
	return g.name + " " + where + " via " + g.g.Binding.String() + " → " + role + " rule " + itoa(g.g.RuleIndex) +
		" (" + strings.Join(g.g.Rule.Verbs, ",") + " on " + strings.Join(g.g.Rule.Resources, ",") + ")"
}
