package checks

// serviceAccount is the deprecated alias of serviceAccountName in a pod
// spec. The API server reads it only when serviceAccountName is empty, and
// writes it back equal to serviceAccountName, so a spec read from a cluster
// always has both, equal. A spec that sets only serviceAccount depends on
// the alias; one that sets both, differently, runs as serviceAccountName
// while its reader may believe the other: the identity is not the one
// written. Both set and equal is what the API server itself returns and is
// not reported. kube-linter and Kubescape deprecated-service-account-field.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// DeprecatedServiceAccountField reports pod specs that rely on the
// deprecated serviceAccount field or contradict serviceAccountName with it.
func DeprecatedServiceAccountField() posture.Check {
	return posture.Check{
		ID:          "deprecated-service-account-field",
		Title:       "Pod spec uses the deprecated serviceAccount field",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "serviceAccount is a deprecated alias, ignored when serviceAccountName is set: a spec that sets it alone relies on the alias, one that sets both differently runs as an identity other than the one its reader sees.",
		Remediation: "Set serviceAccountName and remove serviceAccount.",
		Scope:       posture.ScopeWorkload,
		Versions:    []posture.Versioned{{MinVersion: 8, Eval: evalDeprecatedServiceAccountField}}, // new in version 8
	}
}

func evalDeprecatedServiceAccountField(in *posture.Input) []posture.Result {
	s := in.Workload.PodSpec
	old, name := s.DeprecatedServiceAccount, s.ServiceAccountName
	o := in.Workload.Object
	switch {
	case old == "" || old == name:
		return nil
	case name == "":
		return []posture.Result{{Path: spath(in, "serviceAccount"),
			Message:  o.Ref.Kind + " " + o.Meta.Name + " names its ServiceAccount " + old + " with the deprecated serviceAccount field, not serviceAccountName.",
			Evidence: []finding.Evidence{key("problem", "deprecated-only"), ev("serviceAccount", old)}}}
	}
	return []posture.Result{{Path: spath(in, "serviceAccount"),
		Message: o.Ref.Kind + " " + o.Meta.Name + " sets serviceAccount " + old + " and serviceAccountName " + name +
			": its pods run as " + name + ", serviceAccount is ignored.",
		Evidence: []finding.Evidence{key("problem", "conflict"), ev("serviceAccount", old), ev("serviceAccountName", name)}}}
}
