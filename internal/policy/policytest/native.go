package policytest

import (
	"context"
	"fmt"
	"strings"

	"github.com/palisade-sec/palisade/internal/admission"
	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/policy"
)

// nativePrefix starts the IDs of the webhook's own policies; their modes
// are not CEL policies' and are kept from policy.Load.
const nativePrefix = "admission/"

// nativeRule builds the webhook's own policy named id — image trust
// without scan verification, or Pod Security at a level — in its mode
// (enforce unless modes say otherwise), so that suites test them with the
// engine the webhook runs.
func nativeRule(id string, modes map[string]policy.Mode, opts Options) (admission.Rule, error) {
	var pol admission.Policy
	switch {
	case id == "admission/image-trust":
		pol = &admission.ImageTrust{Registries: opts.Registries}
	case strings.HasPrefix(id, "admission/pod-security-"):
		version := opts.PodSecurity.Version
		if version == "" {
			version = config.DefaultPodSecurityVersion
		}
		pss, err := admission.NewPodSecurity(strings.TrimPrefix(id, "admission/pod-security-"), version)
		if err != nil {
			return admission.Rule{}, fmt.Errorf("policy %q: %w", id, err)
		}
		pol = pss
	default:
		return admission.Rule{}, fmt.Errorf("no policy %q among the suite's policies (nor admission/image-trust, admission/pod-security-baseline or -restricted)", id)
	}
	mode := admission.Enforce
	if m := opts.PodSecurity.Mode; m != "" && strings.HasPrefix(id, "admission/pod-security-") {
		mode = admission.Mode(m)
	}
	if m, ok := modes[id]; ok {
		if _, err := policy.ParseMode(string(m)); err != nil {
			return admission.Rule{}, fmt.Errorf("modes[%s]: %w", id, err)
		}
		mode = admission.Mode(m)
	}
	return admission.Rule{Policy: pol, Mode: mode}, nil
}

// judgeNative has an engine holding rule alone review o. The webhook's own
// policies judge pod specs only: anything else is a skip.
func (r *runner) judgeNative(ctx context.Context, rule admission.Rule, o *kube.Object, e *Expect) (Outcome, error) {
	oc := Outcome{Policy: rule.Policy.ID(), Resource: o.Ref.String(), Source: fmt.Sprintf("%s:%d", o.Source.File, o.Source.Line), Expected: e.Result}
	if kube.WorkloadOf(o) == nil {
		oc.Got = Skip
	} else {
		ar, err := r.request(o, e.Request)
		if err != nil {
			return oc, err
		}
		eng := &admission.Engine{Rules: []admission.Rule{rule}, Exceptions: r.exceptions}
		oc.Got, oc.Messages = verdict(eng.Review(ctx, ar))
	}
	oc.OK = oc.Got == oc.Expected
	return oc, nil
}
