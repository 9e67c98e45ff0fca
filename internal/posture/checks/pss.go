package checks

import (
	"fmt"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// pssEvaluator evaluates the Pod Security Standards with the upstream
// k8s.io/pod-security-admission library, the code the API server's own
// PodSecurity admission runs: Palisade never re-implements PSS.
type pssEvaluator struct {
	eval policy.Evaluator
	// said holds the message and evidence of each (level, reason, detail)
	// seen, shared by every result that says it: the same few reasons
	// recur on thousands of workloads, and building them per result was a
	// seventh of a large scan's memory. Bounded by pssSaidMax entries
	// (the evaluator lives as long as the check registry).
	said  sync.Map // pssKey → *pssSaid
	saidN atomic.Int64
}

type pssKey struct {
	level          psaapi.Level
	reason, detail string
}

type pssSaid struct {
	message  string
	evidence []finding.Evidence // full: an append copies it
}

// pssSaidMax bounds pssEvaluator.said: past it, results are built each
// time, as before.
const pssSaidMax = 4096

// newPSSEvaluator returns an evaluator of the upstream checks defined at
// level only: baseline's, or the checks the restricted level adds. So
// pss-restricted reports what restricted forbids beyond baseline, without
// evaluating the baseline checks twice.
func newPSSEvaluator(level psaapi.Level) *pssEvaluator {
	var checks []policy.Check
	for _, c := range policy.DefaultChecks() {
		if c.Level == level {
			checks = append(checks, c)
		}
	}
	e, err := policy.NewEvaluator(checks, nil)
	if err != nil {
		// DefaultChecks is a fixed, valid list: an error here is a broken
		// dependency, caught by every test of this package.
		panic(fmt.Sprintf("pod-security-admission default checks: %v", err))
	}
	return &pssEvaluator{eval: e}
}

// failures returns the forbidden results of w at level (latest version);
// with defaults, of w's pod spec as the API server stores it.
func (p *pssEvaluator) failures(w *kube.Workload, level psaapi.Level, defaults bool) []policy.CheckResult {
	var out []policy.CheckResult
	lv := psaapi.LevelVersion{Level: level, Version: psaapi.LatestVersion()}
	spec := w.PodSpec
	if defaults {
		spec = apiDefaults(spec)
	}
	for _, r := range p.eval.EvaluatePod(lv, &w.PodMeta, spec) {
		if !r.Allowed {
			out = append(out, r)
		}
	}
	return out
}

// results turns the level's failures for in's workload into check results,
// one per forbidden reason; defaults is failures'.
func (p *pssEvaluator) results(in *posture.Input, level psaapi.Level, defaults bool) []posture.Result {
	var out []posture.Result
	for _, r := range p.failures(in.Workload, level, defaults) {
		said := p.say(pssKey{level, r.ForbiddenReason, r.ForbiddenDetail})
		out = append(out, posture.Result{Path: in.Workload.SpecPath, Message: said.message, Evidence: said.evidence})
	}
	return out
}

// say returns the message and evidence of a failure at k's level for k's
// reason and detail.
func (p *pssEvaluator) say(k pssKey) *pssSaid {
	if v, ok := p.said.Load(k); ok {
		return v.(*pssSaid)
	}
	ev := []finding.Evidence{key("reason", k.reason), ev("detail", k.detail)}
	s := &pssSaid{
		message:  "PodSecurity " + string(k.level) + ": " + k.reason + detail(k.detail) + ".",
		evidence: ev[:len(ev):len(ev)],
	}
	if p.saidN.Load() < pssSaidMax {
		if v, loaded := p.said.LoadOrStore(k, s); loaded {
			return v.(*pssSaid)
		}
		p.saidN.Add(1)
	}
	return s
}

func detail(d string) string {
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}

// apiDefaults returns s with the defaults the API server applies before
// PodSecurity admission sees the pod, where they change a PSS verdict: a
// volume with no source becomes an emptyDir (SetDefaults_Volume), which
// restricted allows. s itself is not changed.
func apiDefaults(s *corev1.PodSpec) *corev1.PodSpec {
	var out *corev1.PodSpec
	for i, v := range s.Volumes {
		if v.VolumeSource != (corev1.VolumeSource{}) {
			continue
		}
		if out == nil {
			out = s.DeepCopy()
		}
		out.Volumes[i].EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	if out == nil {
		return s
	}
	return out
}
