package checks

// CIS Kubernetes Benchmark 5.2.8 (5.2.7 in earlier editions): "Minimize the
// admission of containers with the NET_RAW capability. Do not generally
// permit containers with the potentially dangerous NET_RAW capability."
//
// NET_RAW is in the default capability set of Docker and containerd, so a
// container has it unless it drops NET_RAW or ALL. Adding it back wins over
// dropping ALL (the runtime drops first, then adds), and a privileged
// container has every capability whatever it drops.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// The netRaw evidence values: how the container comes to hold NET_RAW.
const (
	netRawAdded      = "added"
	netRawNotDropped = "not-dropped"
	netRawPrivileged = "privileged"
)

// NetRawCapability reports containers that keep or add NET_RAW.
func NetRawCapability() posture.Check {
	return posture.Check{
		ID:          "net-raw-capability",
		Title:       "Container has the NET_RAW capability",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "workload",
		Rationale:   "NET_RAW lets a process craft any packet: spoof addresses, ARP- and DNS-poison its neighbours on the node's bridge, and sniff traffic; few applications need it.",
		Remediation: "Set securityContext.capabilities.drop: [ALL] (or at least NET_RAW) and do not add NET_RAW; ping works without it on kernels with net.ipv4.ping_group_range.",
		Scope:       posture.ScopeWorkload,
		Versions: []posture.Versioned{{MinVersion: 4, Eval: func(in *posture.Input) []posture.Result {
			if isWindows(in.Workload.PodSpec) {
				return nil
			}
			return eachContainer(in, func(c kube.ContainerRef) []posture.Result {
				how, i := netRawOf(c)
				name := c.Container.Name
				switch how {
				case netRawAdded:
					msg := "Container " + name + " adds capability NET_RAW."
					if normCap(string(containerSC(c.Container).Capabilities.Add[i])) == "ALL" {
						msg = "Container " + name + " adds ALL capabilities, NET_RAW included."
					}
					return []posture.Result{{
						Path:     cpath(in, c, "securityContext", "capabilities", "add", itoa(i)),
						Severity: finding.SeverityMedium,
						Message:  msg,
						Evidence: []finding.Evidence{key("netRaw", how)},
					}}
				case netRawPrivileged:
					return []posture.Result{{
						Path:     cpath(in, c, "securityContext", "privileged"),
						Severity: finding.SeverityMedium,
						Message:  "Container " + name + " is privileged, so it has NET_RAW whatever it drops.",
						Evidence: []finding.Evidence{key("netRaw", how)},
					}}
				case netRawNotDropped:
					return []posture.Result{{
						Path:     cpath(in, c, "securityContext"),
						Message:  "Container " + name + " drops neither NET_RAW nor ALL, so it keeps NET_RAW from the runtime's default set.",
						Evidence: []finding.Evidence{key("netRaw", how)},
					}}
				}
				return nil
			})
		}}},
	}
}

// netRawOf says how container c holds NET_RAW ("" when it does not) and,
// when it adds it, the index in capabilities.add.
func netRawOf(c kube.ContainerRef) (string, int) {
	sc := containerSC(c.Container)
	if sc.Privileged != nil && *sc.Privileged {
		return netRawPrivileged, 0
	}
	if sc.Capabilities == nil {
		return netRawNotDropped, 0
	}
	for i, a := range sc.Capabilities.Add {
		if cp := normCap(string(a)); cp == "NET_RAW" || cp == "ALL" {
			return netRawAdded, i
		}
	}
	for _, d := range sc.Capabilities.Drop {
		if cp := normCap(string(d)); cp == "NET_RAW" || cp == "ALL" {
			return "", 0
		}
	}
	return netRawNotDropped, 0
}
