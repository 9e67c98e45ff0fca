package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	corev1listers "k8s.io/client-go/listers/core/v1"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/policy"
)

// NamespaceLookup returns the Namespace object called name as decoded JSON
// (see policy.DecodeObject), or nil when there is none. It gives CEL
// policies their namespaceObject and namespaceSelector.
type NamespaceLookup func(ctx context.Context, name string) (map[string]any, error)

// CELPolicy runs one policy-as-code policy (internal/policy) at admission.
// Unlike the built-in Go policies it judges any kind, not only workloads:
// Services, RBAC, Ingresses, Namespaces, custom resources.
type CELPolicy struct {
	Policy *policy.Policy
	// Namespaces may be nil: namespaceObject is then null and a
	// namespaceSelector sees no labels.
	Namespaces NamespaceLookup
	// Params, when set, replace the policy's own params.
	Params any
}

// CELRules returns one rule per policy, in the policy's (configured) mode.
// A policy that cannot be evaluated fails closed in enforce mode, as
// ValidatingAdmissionPolicy's default failurePolicy does.
func CELRules(ps []*policy.Policy, namespaces NamespaceLookup) []Rule {
	rules := make([]Rule, 0, len(ps))
	for _, p := range ps {
		rules = append(rules, Rule{Policy: &CELPolicy{Policy: p, Namespaces: namespaces}, Mode: Mode(p.Mode), FailOpen: p.FailurePolicy == policy.Ignore})
	}
	return rules
}

// ID returns the policy's ID ("lp/no-privileged").
func (c *CELPolicy) ID() string { return c.Policy.ID }

// Severity is the policy's own (spec.severity), medium when unset.
func (c *CELPolicy) Severity() finding.Severity {
	if s, err := finding.ParseSeverity(c.Policy.Severity); err == nil && s != finding.SeverityUnknown {
		return s
	}
	return finding.SeverityMedium
}

// judgesAnyKind lets the engine run it on objects without a pod spec.
func (c *CELPolicy) judgesAnyKind() bool { return true }

// Evaluate runs the policy on the request.
func (c *CELPolicy) Evaluate(ctx context.Context, req *Request) ([]Violation, error) {
	if ar := req.Review; !c.Policy.MayJudge(ar.Kind.Group, ar.Kind.Kind, string(ar.Operation)) {
		return nil, nil // before building the CEL input, or looking up the namespace
	}
	in, err := c.input(ctx, req)
	if err != nil {
		return nil, err
	}
	res, err := c.Policy.Evaluate(ctx, in)
	if err != nil {
		return nil, err
	}
	var out []Violation
	for _, v := range res.Violations {
		out = append(out, Violation{Container: v.Container, Image: v.Image, Message: v.Message})
	}
	return out, nil
}

// input builds the request's CEL input once, for all CEL policies, from
// the object decodeRequest decoded: the engine runs rules one after
// another, so the cache on Request needs no lock.
func (c *CELPolicy) input(ctx context.Context, req *Request) (*policy.Input, error) {
	if req.cel == nil {
		in, err := celInput(ctx, req.Review, c.Namespaces, req.object)
		if err != nil {
			return nil, err
		}
		req.cel = in
	}
	if c.Params == nil {
		return req.cel, nil
	}
	in := *req.cel
	in.Params = c.Params
	return &in, nil
}

// CELInput is what CEL policies see of an admission request.
func CELInput(ctx context.Context, ar *admissionv1.AdmissionRequest, namespaces NamespaceLookup) (*policy.Input, error) {
	return celInput(ctx, ar, namespaces, nil)
}

// celInput is CELInput with ar.Object already decoded, unless obj is nil.
func celInput(ctx context.Context, ar *admissionv1.AdmissionRequest, namespaces NamespaceLookup, obj map[string]any) (*policy.Input, error) {
	if obj == nil {
		var err error
		if obj, err = policy.DecodeObject(ar.Object.Raw); err != nil {
			return nil, fmt.Errorf("object: %w", err)
		}
	}
	old, err := policy.DecodeObject(ar.OldObject.Raw)
	if err != nil {
		return nil, fmt.Errorf("oldObject: %w", err)
	}
	in := &policy.Input{Object: obj, OldObject: old, Request: RequestForCEL(ar), JSONSize: max(len(ar.Object.Raw), len(ar.OldObject.Raw))}
	if namespaces != nil && ar.Namespace != "" {
		ns, err := namespaces(ctx, ar.Namespace)
		if err != nil {
			return nil, fmt.Errorf("look up namespace %s: %w", ar.Namespace, err)
		}
		in.NamespaceObject = ns
	}
	return in, nil
}

// RequestForCEL converts an admission request to what CEL sees as request.
func RequestForCEL(ar *admissionv1.AdmissionRequest) policy.Request {
	r := policy.Request{
		UID:         string(ar.UID),
		Kind:        policy.GroupVersionKind{Group: ar.Kind.Group, Version: ar.Kind.Version, Kind: ar.Kind.Kind},
		Resource:    policy.GroupVersionResource{Group: ar.Resource.Group, Version: ar.Resource.Version, Resource: ar.Resource.Resource},
		SubResource: ar.SubResource,
		Name:        ar.Name,
		Namespace:   ar.Namespace,
		Operation:   string(ar.Operation),
		UserInfo:    policy.UserInfo{Username: ar.UserInfo.Username, UID: ar.UserInfo.UID, Groups: ar.UserInfo.Groups},
		DryRun:      ar.DryRun != nil && *ar.DryRun,
	}
	if len(ar.UserInfo.Extra) > 0 {
		r.UserInfo.Extra = make(map[string][]string, len(ar.UserInfo.Extra))
		for k, v := range ar.UserInfo.Extra {
			r.UserInfo.Extra[k] = v
		}
	}
	return r
}

var _ Policy = (*CELPolicy)(nil)

// celRulesFromConfig loads admission.policies: the selected built-ins and
// the policy files, in their configured modes, and the policy ConfigMaps.
func celRulesFromConfig(ps config.Policies, namespaces NamespaceLookup, kube kubernetes.Interface, params ConfigMapParams, logger *slog.Logger) ([]Rule, error) {
	sel := policySelection(ps)
	// Loading reads local files only, once, at start-up: there is no
	// request whose context could bound it.
	loaded, err := policy.Load(context.Background(), sel)
	if err != nil {
		return nil, fmt.Errorf("admission.policies: %w", err)
	}
	rules := CELRules(loaded, namespaces)
	if len(ps.ConfigMaps) == 0 {
		return rules, nil
	}
	if kube == nil {
		return nil, errors.New("admission.policies.configMaps: needs a Kubernetes client (in-cluster or --kubeconfig)")
	}
	src := policy.NewConfigMapSource(kube, configMapRefs(ps), 0, ps.Disabled, sel.Modes, logger)
	return append(rules, CELSourceRules(src, namespaces, params)...), nil
}

// ListerNamespaces looks namespaces up in an informer's lister.
func ListerNamespaces(l corev1listers.NamespaceLister) NamespaceLookup {
	if l == nil {
		return nil
	}
	return func(_ context.Context, name string) (map[string]any, error) {
		ns, err := l.Get(name)
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(ns)
		if err != nil {
			return nil, fmt.Errorf("encode namespace %s: %w", name, err)
		}
		m, err := policy.DecodeObject(raw)
		if err != nil {
			return nil, err
		}
		m["apiVersion"], m["kind"] = "v1", "Namespace"
		return m, nil
	}
}

// ConfigMapParams gives policies of policy ConfigMaps the params of their
// spec.paramsRef, which are only known at run time; *policy.ParamsWatcher
// is one.
type ConfigMapParams interface {
	// Lookup returns the ConfigMap's data, or found=false when it does not
	// exist, reading it within ctx on its first use.
	Lookup(ctx context.Context, ref policy.ConfigMapRef) (params map[string]any, found bool, err error)
	// Retain says which refs the current policies name; the others need
	// not be kept current.
	Retain(refs []policy.ConfigMapRef)
}

// CELSource runs the policies of a source that changes at run time (policy
// ConfigMaps) whose mode is Mode. The engine's rules are fixed when it is
// built, so there is one CELSource rule per mode; violations name the
// policy in their message, and exceptions match the rule's ID,
// "policy/configmap".
type CELSource struct {
	Source     *policy.ConfigMapSource
	Mode       policy.Mode
	Namespaces NamespaceLookup
	// Params resolves spec.paramsRef; nil makes a policy with one
	// undecided (denied in enforce mode).
	Params ConfigMapParams
	// retained is shared by the rules of one source (see CELSourceRules).
	retained *retainedPolicies
}

// retainedPolicies are the policies whose params refs were last passed to
// ConfigMapParams.Retain.
type retainedPolicies struct {
	mu   sync.Mutex
	last []*policy.Policy
}

// CELSourceRules returns the three rules (enforce, warn, audit) of src;
// params may be nil when no policy of src has a paramsRef.
func CELSourceRules(src *policy.ConfigMapSource, namespaces NamespaceLookup, params ConfigMapParams) []Rule {
	var rules []Rule
	retained := &retainedPolicies{}
	for _, m := range []policy.Mode{policy.Enforce, policy.Warn, policy.Audit} {
		rules = append(rules, Rule{Policy: &CELSource{Source: src, Mode: m, Namespaces: namespaces, Params: params, retained: retained}, Mode: Mode(m)})
	}
	return rules
}

// ID names the rule in messages and exceptions.
func (c *CELSource) ID() string { return "policy/configmap" }

func (c *CELSource) judgesAnyKind() bool { return true }

// Evaluate re-reads the ConfigMaps when due (once per interval, on one
// request), then runs the current policies of c.Mode.
func (c *CELSource) Evaluate(ctx context.Context, req *Request) ([]Violation, error) {
	if c.Mode == policy.Enforce {
		// One refresh per request is enough; the enforce rule runs first.
		_ = c.Source.Refresh(ctx, false) // logged by the source; old policies stay
	}
	ps := c.Source.Policies()
	c.retain(ps)
	var out []Violation
	for _, p := range ps {
		if p.Mode != c.Mode {
			continue
		}
		vs, err := c.evaluate(ctx, req, p)
		if err != nil && p.FailurePolicy == policy.Ignore {
			out = append(out, Violation{Notice: true, Message: fmt.Sprintf("%s could not be checked; admitted (failurePolicy Ignore)", p.ID)})
			continue
		}
		if err != nil {
			var u *undecided
			if errors.As(err, &u) {
				// The rule is "policy/configmap": say which policy.
				return nil, &undecided{Text: p.ID + ": " + u.Text, Err: u.Err}
			}
			return nil, fmt.Errorf("policy %s: %w", p.ID, err)
		}
		for _, v := range vs {
			v.Message = p.ID + ": " + v.Message
			out = append(out, v)
		}
	}
	return out, nil
}

// errParamsOutside is why a ConfigMap policy's paramsRef is refused.
var errParamsOutside = errors.New("paramsRef outside the policy ConfigMap's namespace")

// evaluate runs p, with the params of its paramsRef when it has one.
func (c *CELSource) evaluate(ctx context.Context, req *Request, p *policy.Policy) ([]Violation, error) {
	cel := &CELPolicy{Policy: p, Namespaces: c.Namespaces}
	r := p.Doc.Spec.ParamsRef
	if r == nil {
		return cel.Evaluate(ctx, req)
	}
	if ar := req.Review; !p.MayJudge(ar.Kind.Group, ar.Kind.Kind, string(ar.Operation)) {
		return nil, nil // before starting a watch for a request it does not judge
	}
	ref := policy.ConfigMapRef{Namespace: r.Namespace, Name: r.Name}
	home, ok := c.Source.Home(p)
	switch {
	case !ok:
		return nil, &undecided{Text: "its policy ConfigMap is unknown, so its paramsRef " + ref.String() + " is not read", Err: fmt.Errorf("policy file %q", p.File)}
	case ref.Namespace != home.Namespace:
		return nil, &undecided{
			Text: fmt.Sprintf("its paramsRef %s is outside namespace %s of its policy ConfigMap %s; params of ConfigMap policies must be ConfigMaps in that namespace", ref, home.Namespace, home),
			Err:  errParamsOutside,
		}
	case c.Params == nil:
		return nil, &undecided{Text: "its paramsRef " + ref.String() + " is not read without a Kubernetes client", Err: errors.New("no ConfigMapParams")}
	}
	params, found, err := c.Params.Lookup(ctx, ref)
	return evaluateWithParams(ctx, req, cel, ref, r.ParameterNotFoundAction, params, found, err)
}

// evaluateWithParams runs cel with the params of its paramsRef ref as
// looked up. Without the ConfigMap it follows ValidatingAdmissionPolicy's
// parameterNotFoundAction: Allow skips the policy, Deny makes a matching
// request a violation naming the ConfigMap, which then follows the
// policy's mode and exceptions like any other.
func evaluateWithParams(ctx context.Context, req *Request, cel *CELPolicy, ref policy.ConfigMapRef, notFound policy.ParameterNotFoundAction, params map[string]any, found bool, err error) ([]Violation, error) {
	if err != nil {
		return nil, &undecided{Text: "its params ConfigMap " + ref.String() + " could not be read", Err: err}
	}
	if found {
		c := *cel
		c.Params = params
		return c.Evaluate(ctx, req)
	}
	if notFound == policy.AllowAction {
		return nil, nil
	}
	in, err := CELInput(ctx, req.Review, cel.Namespaces)
	if err != nil {
		return nil, err
	}
	if !cel.Policy.Matches(in) {
		return nil, nil
	}
	return []Violation{{Message: fmt.Sprintf("its params ConfigMap %s does not exist (paramsRef.parameterNotFoundAction: Deny); create it, or set parameterNotFoundAction: Allow", ref)}}, nil
}

// retain tells c.Params which refs ps name when ps differs from the
// policies it was last told about, so that informers of params no policy
// names any more stop.
func (c *CELSource) retain(ps []*policy.Policy) {
	if c.Params == nil || c.retained == nil {
		return
	}
	c.retained.mu.Lock()
	defer c.retained.mu.Unlock()
	if c.retained.last != nil && slices.Equal(c.retained.last, ps) {
		return
	}
	c.retained.last = ps
	if c.retained.last == nil {
		c.retained.last = []*policy.Policy{} // told: no policies
	}
	c.Params.Retain(policy.ParamsRefs(ps))
}

// ParamsRefs returns the params ConfigMaps the rules' built-in and file
// policies name (the ParamsPolicy rules resolveParams made): those serve
// watches from the start.
func ParamsRefs(rules []Rule) []policy.ConfigMapRef {
	var ps []*policy.Policy
	for _, r := range rules {
		if p, ok := r.Policy.(*ParamsPolicy); ok {
			ps = append(ps, p.CEL.Policy)
		}
	}
	return policy.ParamsRefs(ps)
}

var _ Policy = (*CELSource)(nil)
