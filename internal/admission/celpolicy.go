package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	corev1listers "k8s.io/client-go/listers/core/v1"

	"github.com/palisade-sec/palisade/internal/config"
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
		rules = append(rules, Rule{Policy: &CELPolicy{Policy: p, Namespaces: namespaces}, Mode: Mode(p.Mode)})
	}
	return rules
}

// ID returns the policy's ID ("lp/no-privileged").
func (c *CELPolicy) ID() string { return c.Policy.ID }

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
func celRulesFromConfig(ps config.Policies, namespaces NamespaceLookup, kube kubernetes.Interface, logger *slog.Logger) ([]Rule, error) {
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
	return append(rules, CELSourceRules(src, namespaces)...), nil
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

// CELSource runs the policies of a source that changes at run time (policy
// ConfigMaps) whose mode is Mode. The engine's rules are fixed when it is
// built, so there is one CELSource rule per mode; violations name the
// policy in their message, and exceptions match the rule's ID,
// "policy/configmap".
type CELSource struct {
	Source     *policy.ConfigMapSource
	Mode       policy.Mode
	Namespaces NamespaceLookup
}

// CELSourceRules returns the three rules (enforce, warn, audit) of src.
func CELSourceRules(src *policy.ConfigMapSource, namespaces NamespaceLookup) []Rule {
	var rules []Rule
	for _, m := range []policy.Mode{policy.Enforce, policy.Warn, policy.Audit} {
		rules = append(rules, Rule{Policy: &CELSource{Source: src, Mode: m, Namespaces: namespaces}, Mode: Mode(m)})
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
	var out []Violation
	for _, p := range c.Source.Policies() {
		if p.Mode != c.Mode {
			continue
		}
		vs, err := (&CELPolicy{Policy: p, Namespaces: c.Namespaces}).Evaluate(ctx, req)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			v.Message = p.ID + ": " + v.Message
			out = append(out, v)
		}
	}
	return out, nil
}

var _ Policy = (*CELSource)(nil)
