package checks

// kube-linter no-rolling-update-strategy and Kubescape
// no-rolling-update-strategy (C-0263): a Deployment with strategy
// Recreate stops every old pod before it starts a new one, so each
// rollout — a new image, a config change — is an outage, and a new
// version that fails to start leaves none running. RollingUpdate (the
// default) replaces pods a few at a time. Recreate is a deliberate choice
// for the few applications that cannot run two versions at once (a
// ReadWriteOnce volume, a singleton); the finding says so.
//
// Also reported: a strategy type the API server refuses (anything but
// RollingUpdate and Recreate; for an OpenShift DeploymentConfig, Rolling,
// Recreate and Custom), and a rolling update whose maxUnavailable covers
// every replica (a percentage rounded down, as the deployment controller
// does), which takes them all down at once like Recreate.

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RolloutStrategy reports Deployments whose rollouts take every pod down.
func RolloutStrategy() posture.Check {
	return posture.Check{
		ID:          "rollout-strategy",
		Title:       "Rollout takes every pod down at once",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "With Recreate, or a rolling update that may take every replica down, each rollout is an outage, and a new version that fails to start leaves nothing running.",
		Remediation: "Use strategy RollingUpdate with maxUnavailable below the replica count (the default, 25%, is), unless the application cannot run two versions at once.",
		Scope:       posture.ScopeObject,
		Kinds:       []string{"Deployment", "DeploymentConfig"},
		Versions:    availabilityV8(rolloutResults),
	}
}

func rolloutResults(in *posture.Input) []posture.Result {
	o := in.Object
	m := fieldsOf(o)
	typ, _, _ := unstructured.NestedString(m, "spec", "strategy", "type")
	path := []string{"spec", "strategy", "type"}
	valid := map[string]bool{"": true, "RollingUpdate": true, "Recreate": true}
	rolling := "RollingUpdate"
	if o.Ref.Kind == "DeploymentConfig" {
		valid = map[string]bool{"": true, "Rolling": true, "Recreate": true, "Custom": true}
		rolling = "Rolling"
	}
	switch {
	case !valid[typ]:
		return []posture.Result{{Path: path,
			Message:  o.Ref.Kind + " strategy type " + typ + " is not one the API server accepts: the object is refused.",
			Evidence: []finding.Evidence{key("problem", "refused"), ev("strategy", typ)}}}
	case typ == "Recreate":
		return []posture.Result{{Path: path,
			Message:  o.Ref.Kind + " uses strategy Recreate: every rollout stops all pods before starting new ones (keep it only for an application that cannot run two versions at once).",
			Evidence: []finding.Evidence{key("problem", "recreate"), ev("strategy", typ)}}}
	}
	if _, ok := o.Typed.(*appsv1.Deployment); !ok {
		return nil
	}
	n := replicas(o)
	v, ok := nestedIntOrString(m, "spec", "strategy", "rollingUpdate", "maxUnavailable")
	if !ok || n < 2 {
		return nil // the default 25% rounds down below any count ≥ 2
	}
	down, ok := scaledValue(v, n, false) // rounded down, as the deployment controller does
	if !ok || down < n {
		return nil
	}
	return []posture.Result{{Path: []string{"spec", "strategy", "rollingUpdate", "maxUnavailable"},
		Message:  o.Ref.Kind + " " + rolling + " allows maxUnavailable " + v.String() + " of " + itoa(n) + " replicas: a rollout may take them all down at once.",
		Evidence: []finding.Evidence{key("problem", "all-unavailable"), ev("maxUnavailable", v.String()), ev("replicas", itoa(n))}}}
}
