package admission

import (
	"context"
	"fmt"

	psaapi "k8s.io/pod-security-admission/api"
	psapolicy "k8s.io/pod-security-admission/policy"
)

// PodSecurity enforces a Pod Security Standards level at a pinned version
// with k8s.io/pod-security-admission itself: the checks are the upstream
// ones, never re-implemented, so Palisade and the built-in PodSecurity
// admission can never disagree.
type PodSecurity struct {
	level     psaapi.LevelVersion
	evaluator psapolicy.Evaluator
	// Namespaces overrides the level per namespace; nil applies level
	// everywhere.
	Namespaces *NamespaceLevels
}

// NewPodSecurity builds the policy for level ("baseline", "restricted") at
// version ("latest", "v1.30", …).
func NewPodSecurity(level, version string) (*PodSecurity, error) {
	l, err := psaapi.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("pod security level: %w", err)
	}
	v, err := psaapi.ParseVersion(version)
	if err != nil {
		return nil, fmt.Errorf("pod security version: %w", err)
	}
	ev, err := psapolicy.NewEvaluator(psapolicy.DefaultChecks(), nil)
	if err != nil {
		return nil, fmt.Errorf("build pod security evaluator: %w", err)
	}
	return &PodSecurity{level: psaapi.LevelVersion{Level: l, Version: v}, evaluator: ev}, nil
}

// ID implements Policy. It names the configured level even where a
// namespace overrides it, so that exceptions and dashboards keep one name.
func (p *PodSecurity) ID() string { return "admission/pod-security-" + string(p.level.Level) }

// Evaluate implements Policy.
func (p *PodSecurity) Evaluate(_ context.Context, req *Request) ([]Violation, error) {
	w := req.Workload
	level := p.Namespaces.level(req.Namespace, p.level)
	var out []Violation
	for _, r := range p.evaluator.EvaluatePod(level, &w.PodMeta, w.PodSpec) {
		if !r.Allowed {
			out = append(out, Violation{Message: fmt.Sprintf("violates PodSecurity %q: %s (%s)", level.String(), r.ForbiddenReason, r.ForbiddenDetail)})
		}
	}
	return out, nil
}

var _ Policy = (*PodSecurity)(nil)
