package checks

// Kubescape naked-pods (C-0073): a Pod that no controller owns is not
// replaced when its node fails, is drained, or is scaled down: eviction
// deletes it for good, and nothing recreates it elsewhere. A Deployment,
// StatefulSet, DaemonSet or Job keeps the pod's spec and makes a new one.
//
// Static pods are not bare: the kubelet runs them from its manifest
// directory and restarts them on that node, which is where they belong.
// They are recognized by the mirror pod's annotation, or by kubeadm's
// labels tier: control-plane with a component (as kube-system-workload
// does). A live scan lists only pods no controller owns, so it reports
// what a manifest scan does.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// BarePod reports pods that no controller owns.
func BarePod() posture.Check {
	return posture.Check{
		ID:          "bare-pod",
		Title:       "Pod is not managed by a controller",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "A pod no controller owns is not recreated when its node fails or is drained: the service stays down until someone notices.",
		Remediation: "Run the pod from a Deployment (or a StatefulSet, DaemonSet or Job) so that a controller replaces it.",
		Scope:       posture.ScopeWorkload,
		Versions: exceptHelmHooks(availabilityV8(func(in *posture.Input) []posture.Result {
			o := in.Object
			if o.Ref.Kind != "Pod" {
				return nil
			}
			if controlled(o) {
				return nil
			}
			if _, mirror := o.Meta.Annotations["kubernetes.io/config.mirror"]; mirror {
				return nil
			}
			if l := o.Meta.Labels; l["tier"] == "control-plane" && l["component"] != "" {
				return nil
			}
			return []posture.Result{{
				Path:     []string{"metadata"},
				Message:  "Pod " + o.Ref.Name + " has no controller: if its node fails or is drained, nothing recreates it.",
				Evidence: []finding.Evidence{key("problem", "no-controller")},
			}}
		})),
	}
}
