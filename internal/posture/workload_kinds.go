package posture

import "github.com/palisade-sec/palisade/internal/kube"

// CustomWorkloadsSince is the behaviour version from which the pod
// templates of custom resources (kube.CustomWorkloadKinds: Agent Sandbox's
// Sandbox and SandboxTemplate) are workloads: every workload check judges
// them, and inventory checks (network isolation, exposure, token grants)
// count them. Scans pinned to an older version see the objects but not
// their pod templates, as those versions did.
const CustomWorkloadsSince Version = 8

// View returns inv as the registry's pinned version sees it, for what is
// reported beside the checks' findings (the exposed workloads). From
// CustomWorkloadsSince, what a custom workload's controller created from
// its template (a Sandbox's Pod, listed live) is judged at the template,
// once, instead of again at each copy; before it, custom workloads are not
// workloads.
func (r *Registry) View(inv *kube.Inventory) *kube.Inventory {
	if r.pin == Latest || r.pin >= CustomWorkloadsSince {
		return inv.WithoutWorkloads((*kube.Workload).CreatedFromCustomTemplate)
	}
	return inv.WithoutWorkloads((*kube.Workload).IsCustomWorkload)
}
