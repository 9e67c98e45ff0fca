package policytest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/palisade-sec/palisade/internal/admission"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/policy"
)

// Options are what the suite takes from palisade.yaml, so that a suite run
// with the deployment's configuration judges as its webhook does.
type Options struct {
	Exceptions []config.Exception
	// Modes override policy modes; the suite's own modes override these.
	Modes map[string]string
	// Registries and PodSecurity configure the webhook's own policies,
	// admission/image-trust and admission/pod-security-<level>, which
	// results may name too. Image trust offline judges registries and tags
	// only: whether a scan passed is the webhook's to verify.
	Registries  config.Registries
	PodSecurity config.PodSecurityPolicy
}

// Outcome is one policy's verdict on one resource.
type Outcome struct {
	Policy   string   `json:"policy"`
	Resource string   `json:"resource"` // Kind/namespace/name
	Source   string   `json:"source"`   // file:line of the manifest
	Expected string   `json:"expected"`
	Got      string   `json:"got"`
	Messages []string `json:"messages,omitempty"`
	OK       bool     `json:"ok"`
}

// Run evaluates every expected result of s. Problems with the suite, its
// policies or manifests are *InputError; a mismatch is an Outcome with OK
// false.
func Run(ctx context.Context, s *Suite, opts Options) ([]Outcome, error) {
	modes := map[string]policy.Mode{}
	for id, m := range opts.Modes {
		modes[id] = policy.Mode(m)
	}
	for id, m := range s.Modes {
		modes[id] = policy.Mode(m)
	}
	builtin := s.Builtin
	if builtin == nil {
		builtin = []string{"none"}
	}
	celModes := maps.Clone(modes)
	maps.DeleteFunc(celModes, func(id string, _ policy.Mode) bool { return strings.HasPrefix(id, nativePrefix) })
	ps, err := policy.Load(ctx, policy.Selection{Builtin: builtin, Files: s.Policies, Modes: celModes})
	if err != nil {
		return nil, &InputError{err}
	}
	byID := map[string]*policy.Policy{}
	for _, p := range ps {
		byID[p.ID] = p
	}
	inv, err := kube.Load(ctx, s.Resources, nil, kube.Limits{})
	if err != nil {
		return nil, &InputError{err}
	}
	r := &runner{objs: inv.Objects, namespaces: map[string]map[string]any{}, exceptions: opts.Exceptions}
	for _, o := range inv.OfKind("Namespace") {
		m, err := policy.ObjectValue(o)
		if err != nil {
			return nil, &InputError{err}
		}
		r.namespaces[o.Meta.Name] = m
	}
	var out []Outcome
	for i, e := range s.Results {
		p := byID[e.Policy]
		var native admission.Rule
		if p == nil {
			if native, err = nativeRule(e.Policy, modes, opts); err != nil {
				return nil, &InputError{fmt.Errorf("results[%d]: %w", i, err)}
			}
		}
		for _, name := range e.Resources {
			o, err := r.find(name)
			if err != nil {
				return nil, &InputError{fmt.Errorf("results[%d]: %w", i, err)}
			}
			var oc Outcome
			if p != nil {
				oc, err = r.judge(ctx, p, o, &e)
			} else {
				oc, err = r.judgeNative(ctx, native, o, &e)
			}
			if err != nil {
				return nil, &InputError{fmt.Errorf("results[%d] %s on %s: %w", i, e.Policy, name, err)}
			}
			out = append(out, oc)
		}
	}
	return out, nil
}

type runner struct {
	objs       []*kube.Object
	namespaces map[string]map[string]any
	exceptions []config.Exception
}

// find resolves a resource name: Kind/namespace/name, Kind/name or name.
func (r *runner) find(name string) (*kube.Object, error) {
	var hits []*kube.Object
	for _, o := range r.objs {
		if o.Ref.String() == name || o.Ref.Kind+"/"+o.Ref.Name == name || o.Ref.Name == name {
			hits = append(hits, o)
		}
	}
	switch len(hits) {
	case 0:
		return nil, fmt.Errorf("no resource %q among the suite's resources", name)
	case 1:
		return hits[0], nil
	}
	var refs []string
	for _, o := range hits {
		refs = append(refs, o.Ref.String())
	}
	return nil, fmt.Errorf("resource %q is ambiguous (%s); write Kind/namespace/name", name, strings.Join(refs, ", "))
}

// judge builds the AdmissionRequest the API server would send for o and
// has an engine holding p alone review it.
func (r *runner) judge(ctx context.Context, p *policy.Policy, o *kube.Object, e *Expect) (Outcome, error) {
	oc := Outcome{Policy: p.ID, Resource: o.Ref.String(), Source: fmt.Sprintf("%s:%d", o.Source.File, o.Source.Line), Expected: e.Result}
	ar, err := r.request(o, e.Request)
	if err != nil {
		return oc, err
	}
	lookup := func(_ context.Context, name string) (map[string]any, error) { return r.namespaces[name], nil }
	// Whether the policy applies at all is not visible in the engine's
	// response; ask the policy, on the same input the engine builds.
	in, err := admission.CELInput(ctx, ar, lookup)
	if err != nil {
		return oc, err
	}
	in.Params = e.Params
	res, err := p.Evaluate(ctx, in)
	switch {
	case err != nil:
		oc.Got, oc.Messages = Error, []string{err.Error()}
	case !res.Matched:
		oc.Got = Skip
	default:
		rules := admission.CELRules([]*policy.Policy{p}, lookup)
		if e.Params != nil {
			rules[0].Policy.(*admission.CELPolicy).Params = e.Params
		}
		eng := &admission.Engine{Rules: rules, Exceptions: r.exceptions}
		resp := eng.Review(ctx, ar)
		oc.Got, oc.Messages = verdict(resp)
	}
	oc.OK = oc.Got == oc.Expected
	return oc, nil
}

// verdict reads the engine's response: a denial or an audit record is a
// failure, a warning a warning.
func verdict(resp *admissionv1.AdmissionResponse) (string, []string) {
	switch {
	case !resp.Allowed:
		msg := ""
		if resp.Result != nil {
			msg = resp.Result.Message
		}
		return Fail, []string{msg}
	case len(resp.AuditAnnotations) > 0:
		var msgs []string
		for _, k := range slices.Sorted(maps.Keys(resp.AuditAnnotations)) {
			msgs = append(msgs, resp.AuditAnnotations[k])
		}
		return Fail, msgs
	case len(resp.Warnings) > 0:
		return Warn, resp.Warnings
	}
	return Pass, nil
}

func (r *runner) request(o *kube.Object, q *RequestSpec) (*admissionv1.AdmissionRequest, error) {
	raw, err := rawObject(o)
	if err != nil {
		return nil, err
	}
	gv, err := schema.ParseGroupVersion(o.Ref.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("apiVersion of %s: %w", o.Ref, err)
	}
	ar := &admissionv1.AdmissionRequest{
		UID:       types.UID("palisade-policy-test"),
		Kind:      metav1.GroupVersionKind{Group: gv.Group, Version: gv.Version, Kind: o.Ref.Kind},
		Name:      o.Ref.Name,
		Namespace: o.Ref.Namespace,
		Operation: admissionv1.Create,
		Object:    runtime.RawExtension{Raw: raw},
	}
	if q == nil {
		return ar, nil
	}
	if q.Operation != "" {
		ar.Operation = admissionv1.Operation(q.Operation)
	}
	ar.DryRun = &q.DryRun
	ar.UserInfo = authenticationv1.UserInfo{Username: q.UserInfo.Username, Groups: q.UserInfo.Groups}
	if q.OldResource != "" {
		old, err := r.find(q.OldResource)
		if err != nil {
			return nil, fmt.Errorf("oldResource: %w", err)
		}
		if ar.OldObject.Raw, err = rawObject(old); err != nil {
			return nil, err
		}
	}
	return ar, nil
}

func rawObject(o *kube.Object) ([]byte, error) {
	m, err := policy.ObjectValue(o)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", o.Ref, err)
	}
	return raw, nil
}
