package checks

// Kubernetes Deprecated API Migration Guide: an API version that a release
// stops serving makes every manifest and client using it fail on upgrade.
// Objects are judged against the target version (--target-version, else
// the cluster's, else the newest release known). Live objects are read in
// their preferred version, so there the apiVersion they were last applied
// with (kubectl's last-applied-configuration) is judged.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
	"github.com/palisade-sec/palisade/internal/posture/versions"
)

// DeprecatedAPI reports objects in API versions deprecated at the target version.
func DeprecatedAPI() posture.Check {
	return posture.Check{
		ID:          "deprecated-api",
		Title:       "Object uses a deprecated API version",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "cluster",
		Rationale:   "Deprecated API versions are removed in a later release; manifests and clients still using them break on that upgrade.",
		Remediation: "Migrate the manifest to the replacement API version (kubectl convert can help) before upgrading.",
		Scope:       posture.ScopeInventory,
		Versions:    v1(apiStatusEval("deprecated")),
	}
}

// RemovedAPI reports objects in API versions the target version no longer serves.
func RemovedAPI() posture.Check {
	return posture.Check{
		ID:          "removed-api",
		Title:       "Object uses an API version the target Kubernetes no longer serves",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityHigh,
		Category:    "cluster",
		Rationale:   "The API server refuses objects in removed API versions: applying this manifest fails, and so does the upgrade plan that relies on it.",
		Remediation: "Migrate the manifest to the replacement API version before deploying to or upgrading to the target version.",
		Scope:       posture.ScopeInventory,
		Versions:    v1(apiStatusEval("removed")),
	}
}

// targetVersion returns the version APIs are judged against: the
// requested one, the cluster's, the oldest Node of the inventory (manifests
// that include nodes describe their cluster), or the newest known release.
func targetVersion(in *posture.Input) (versions.Version, bool) {
	c := in.Options.Cluster
	for _, s := range []string{c.TargetVersion, c.GitVersion} {
		if s == "" {
			continue
		}
		v, err := versions.ParseVersion(s)
		return v, err == nil
	}
	var oldest *versions.Version
	for _, s := range versionSubjects(in) {
		if oldest == nil || s.version.Less(*oldest) {
			v := s.version
			oldest = &v
		}
	}
	if oldest != nil {
		return *oldest, true
	}
	t, _ := versionTable(in)
	v, err := versions.ParseVersion(t.Newest().Minor)
	return v, err == nil
}

func apiStatusEval(want string) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		target, ok := targetVersion(in)
		if !ok {
			return nil
		}
		apis := versions.DeprecatedAPIs()
		var out []posture.Result
		for _, o := range in.Inventory.Objects {
			apiVersion, path, how := o.Ref.APIVersion, []string{"apiVersion"}, ""
			if o.Source.File == "" && o.Source.Cluster != "" {
				if apiVersion = lastAppliedAPIVersion(o); apiVersion == "" {
					continue
				}
				path, how = []string{"metadata", "annotations"}, " (as last applied)"
			}
			api, ok := apis.Lookup(apiVersion, o.Ref.Kind)
			if !ok || api.Status(target) != want {
				continue
			}
			out = append(out, posture.Result{Object: o, Path: path,
				Message:  apiMessage(o, api, target, how),
				Evidence: []finding.Evidence{key("apiVersion", apiVersion), ev("target", target.MinorString())}})
		}
		return out
	}
}

func apiMessage(o *kube.Object, api versions.API, target versions.Version, how string) string {
	msg := o.Ref.Kind + " " + o.Ref.Name + " uses " + api.APIVersion + how + ", deprecated in Kubernetes " + api.Deprecated + " and removed in " + api.Removed + " (target " + target.MinorString() + ")"
	if api.Replacement == "" {
		return msg + "; it has no replacement."
	}
	return msg + "; use " + api.Replacement + "."
}
