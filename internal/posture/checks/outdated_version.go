package checks

// CIS Kubernetes Benchmark and NSA/CISA "Upgrading and application security
// practices": run a supported, patched Kubernetes. A cluster two or more
// minor releases behind the newest misses fixes only the newer releases
// get, and one behind the newest patch of its own minor misses published
// security fixes. The versions table's asOf date is named, so a stale
// table is visible in the finding.

import (
	"strconv"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/versions"
)

// OutdatedVersion reports clusters and nodes behind the newest Kubernetes releases.
func OutdatedVersion() posture.Check {
	return posture.Check{
		ID:          "outdated-version",
		Title:       "Kubernetes version is outdated",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "cluster",
		Rationale:   "Older Kubernetes releases miss security fixes and hardening that newer releases and patches carry.",
		Remediation: "Upgrade the control plane and nodes to a recent minor release and its newest patch; plan upgrades every few months.",
		Scope:       posture.ScopeInventory,
		Versions: v1(func(in *posture.Input) []posture.Result {
			t, _ := versionTable(in)
			newest, _ := versions.ParseVersion(t.Newest().Minor)
			asOf := " (versions table as of " + t.AsOf.String() + ")"
			var out []posture.Result
			for _, s := range versionSubjects(in) {
				if behind := s.version.MinorsBehind(newest); behind >= 2 {
					out = append(out, s.result(posture.Result{
						Message:  s.what() + ", " + strconv.Itoa(behind) + " minor releases behind the newest, " + newest.MinorString() + asOf + ".",
						Evidence: []finding.Evidence{key("verdict", "minor-behind"), ev("version", s.raw), ev("newest", newest.MinorString())},
					}))
					continue
				}
				rel, ok := t.Release(versions.Upstream, s.version.MinorString())
				if !ok || rel.Latest == "" || !s.version.HasPatch {
					continue
				}
				latest, err := versions.ParseVersion(rel.Latest)
				if err == nil && s.version.Less(latest) {
					out = append(out, s.result(posture.Result{
						Severity: finding.SeverityLow,
						Message:  s.what() + "; the newest patch of " + rel.Minor + " is " + rel.Latest + asOf + ".",
						Evidence: []finding.Evidence{key("verdict", "patch-behind"), ev("version", s.raw), ev("latest", rel.Latest)},
					}))
				}
			}
			return out
		}),
	}
}
