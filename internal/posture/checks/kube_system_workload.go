package checks

// kube-system holds the control plane's and the add-ons' service accounts
// and secrets, and is the namespace that policy engines, Pod Security
// Admission configurations and admission webhooks commonly exempt. A user
// workload there shares that namespace with credentials it should never
// reach (anyone who may create pods in kube-system can run as any of its
// service accounts) and escapes policy meant for workloads; an attacker
// hides a pod there among the system's own (MITRE ATT&CK T1036.005).
// Trivy KSV037 asks the same.
//
// Which workloads belong there is decided without a list of add-on names,
// which would go stale with every new CNI or CSI driver. The system's own
// pods say what they are:
//
//   - priorityClassName system-node-critical or system-cluster-critical:
//     the built-in classes for pods the scheduler must never evict or
//     preempt. kubeadm's static pods, CoreDNS, kube-proxy, metrics-server,
//     and CNI and CSI agents (Calico, Cilium, Flannel, the cloud drivers)
//     all set one: the cluster breaks without them. An application does
//     not need one, and one that takes it has a different problem.
//   - the scheduler.alpha.kubernetes.io/critical-pod annotation, the same
//     statement before Kubernetes 1.16 (older Calico and add-on manifests);
//   - a static pod: the kubelet's mirror pod annotation
//     (kubernetes.io/config.mirror), or kubeadm's static-pod labels
//     tier: control-plane with a component label. Whoever can write a
//     node's manifest directory owns that node already.
//
// Trivy exempts only pods with all of component, tier: control-plane and a
// critical class: it reports CoreDNS and kube-proxy, so its verdicts
// differ on purpose (see the notes on KSV037).

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// KubeSystemWorkload reports workloads in kube-system that are neither
// static pods nor declared system-critical.
func KubeSystemWorkload() posture.Check {
	return posture.Check{
		ID:          "kube-system-workload",
		Title:       "Workload in kube-system is not a system component",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityMedium,
		Category:    "namespace",
		Rationale:   "kube-system holds the control plane's service accounts and secrets and is usually exempt from admission policy; a workload that is not a system component gains that reach and hides among the system's pods.",
		Remediation: "Deploy the workload into a namespace of its own; if it is a cluster add-on that must never be evicted, give it priorityClassName system-cluster-critical or system-node-critical.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{{MinVersion: 5, Eval: func(in *posture.Input) []posture.Result {
			o := in.Object
			if o.Ref.Namespace != "kube-system" {
				return nil
			}
			w := in.Workload
			switch w.PodSpec.PriorityClassName {
			case "system-node-critical", "system-cluster-critical":
				return nil
			}
			ann := func(k string) (string, bool) {
				if v, ok := w.PodMeta.Annotations[k]; ok {
					return v, true
				}
				v, ok := o.Meta.Annotations[k]
				return v, ok
			}
			if _, ok := ann("scheduler.alpha.kubernetes.io/critical-pod"); ok {
				return nil
			}
			if _, ok := ann("kubernetes.io/config.mirror"); ok {
				return nil
			}
			if l := w.PodMeta.Labels; l["tier"] == "control-plane" && l["component"] != "" {
				return nil
			}
			class := w.PodSpec.PriorityClassName
			if class == "" {
				class = "none"
			}
			return []posture.Result{{
				Path: []string{"metadata", "namespace"},
				Message: o.Ref.Kind + " " + o.Ref.Name + " runs in kube-system but is neither a static control-plane pod nor " +
					"declared system-critical (priorityClassName " + class + ").",
				Evidence: []finding.Evidence{key("namespace", "kube-system"), ev("priorityClassName", class)},
			}}
		}}},
	}
}
