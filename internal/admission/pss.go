package admission

import (
	"context"
	"fmt"
	"regexp"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"

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

// Evaluate implements Policy. An UPDATE that keeps the pod spec passes,
// as in the built-in PodSecurity admission (see update.go).
func (p *PodSecurity) Evaluate(_ context.Context, req *Request) ([]Violation, error) {
	if req.podSpecUnchanged() {
		return nil, nil
	}
	w := req.Workload
	level := p.Namespaces.level(req.Namespace, p.level)
	var out []Violation
	for _, r := range p.evaluator.EvaluatePod(level, &w.PodMeta, w.PodSpec) {
		if !r.Allowed {
			out = append(out, pssViolations(w, level, r)...)
		}
	}
	return out, nil
}

// containerDetail matches the details pod-security-admission gives for
// container fields: `container "a" must …`, `containers "a", "b" must …`,
// `pod or containers "a" must …`.
var containerDetail = regexp.MustCompile(`^(?:pod or )?containers? ((?:"[^"]*"(?:, )?)+) (.+)$`)

var quoted = regexp.MustCompile(`"([^"]*)"`)

// pssViolations turns one failed check into one violation per container it
// names, each with the container's image, so that a denial or warning says
// which container to fix; a pod-level check stays one violation.
func pssViolations(w *kube.Workload, level psaapi.LevelVersion, r psapolicy.CheckResult) []Violation {
	m := containerDetail.FindStringSubmatch(r.ForbiddenDetail)
	if m == nil {
		return []Violation{{Message: fmt.Sprintf("PodSecurity %s: %s (%s)", level.Level, r.ForbiddenReason, r.ForbiddenDetail)}}
	}
	images := map[string]string{}
	for _, c := range w.AllContainers() {
		images[c.Container.Name] = c.Container.Image
	}
	var out []Violation
	for _, q := range quoted.FindAllStringSubmatch(m[1], -1) {
		// Short, because a warning is cut at 120 characters and the
		// container and its image come first.
		out = append(out, Violation{Container: q[1], Image: images[q[1]],
			Message: fmt.Sprintf("PodSecurity %s: %s (%s)", level.Level, r.ForbiddenReason, m[2])})
	}
	return out
}

// Severity rates violations in PolicyReports: baseline keeps known
// privilege escalations out, restricted is hardening.
func (p *PodSecurity) Severity() finding.Severity {
	if p.level.Level == psaapi.LevelRestricted {
		return finding.SeverityMedium
	}
	return finding.SeverityHigh
}

var _ Policy = (*PodSecurity)(nil)
