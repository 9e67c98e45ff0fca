package checks

// NSA/CISA Kubernetes Hardening Guide, "Upgrading and application security
// practices": a Kubernetes release past its end of life gets no security
// fixes. Dates differ per distribution — EKS sells a year of extended
// support after its standard support, GKE keeps a maintenance period — so
// the distribution is read from the gitVersion suffix (-eks-, -gke.), AKS
// node labels or --distribution, with the upstream dates as the fallback.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/versions"
)

// EndOfSupport reports clusters and nodes on Kubernetes releases past their support dates.
func EndOfSupport() posture.Check {
	return posture.Check{
		ID:          "end-of-support",
		Title:       "Kubernetes version is past its end of support",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "cluster",
		Rationale:   "A Kubernetes release past its end of life receives no security fixes; known vulnerabilities stay open.",
		Remediation: "Upgrade to a minor release still supported by your distribution, one minor version at a time.",
		Scope:       posture.ScopeInventory,
		Versions: v1(func(in *posture.Input) []posture.Result {
			t, now := versionTable(in)
			asOf := " (versions table as of " + t.AsOf.String() + ")"
			oldest, _ := versions.ParseVersion(t.Distributions[versions.Upstream][len(t.Distributions[versions.Upstream])-1].Minor)
			var out []posture.Result
			for _, s := range versionSubjects(in) {
				minor := s.version.MinorString()
				dist := s.dist
				rel, ok := t.Release(dist, minor)
				if !ok {
					dist = versions.Upstream
					rel, ok = t.Release(dist, minor)
				}
				evs := []finding.Evidence{key("version", minor), ev("distribution", dist)}
				switch {
				case !ok && s.version.Less(oldest):
					out = append(out, s.result(posture.Result{
						Message:  s.what() + ", older than every release the versions table lists" + asOf + "; it is long past its end of life.",
						Evidence: evs,
					}))
				case !ok:
					// Newer than the table: nothing is known to have ended.
				case now.After(rel.EndOfLife.Time):
					out = append(out, s.result(posture.Result{
						Message:  s.what() + "; " + dist + " " + minor + " reached its end of life on " + rel.EndOfLife.String() + asOf + ".",
						Evidence: evs,
					}))
				case dist != versions.Upstream && rel.EndOfSupport != nil && now.After(rel.EndOfSupport.Time):
					out = append(out, s.result(posture.Result{
						Severity: finding.SeverityMedium,
						Message:  s.what() + "; " + dist + " standard support for " + minor + " ended on " + rel.EndOfSupport.String() + ", and all support ends on " + rel.EndOfLife.String() + asOf + ".",
						Evidence: evs,
					}))
				}
			}
			return out
		}),
	}
}
