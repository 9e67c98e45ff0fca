package checks

// Polaris priorityClassNotSet and kube-linter priority-class-name. A pod
// without a priority class runs at priority 0 (or the cluster's
// globalDefault class): when a node runs short it is among the first the
// kubelet evicts, and the scheduler preempts it for any pod with a class.
// Which classes a team's workloads may use is a policy
// (posture.availability.priorityClasses in palisade.yaml; kube-linter's
// acceptedPriorityClassNames): a name outside it is reported. A name
// that exists nowhere makes the Priority admission plugin refuse the pod;
// on a live scan (PriorityClasses listed) such a name is reported too.
//
// A pod without a class passes when the inventory holds a PriorityClass
// with globalDefault: true, which the admission plugin then gives it.

import (
	"slices"
	"strings"

	schedulingv1 "k8s.io/api/scheduling/v1"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// PriorityClass reports pods without a priority class, with one the
// configuration does not accept, or (live) with one that does not exist.
func PriorityClass() posture.Check {
	return posture.Check{
		ID:          "priority-class",
		Title:       "Pod has no priority class, or one not accepted",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "Pods without a priority class are evicted first under node pressure and preempted by any pod that has one.",
		Remediation: "Set priorityClassName to one of the classes your cluster defines for this tier of workload.",
		Scope:       posture.ScopeWorkload,
		Needs:       []string{"PriorityClass"},
		Versions: availabilityV8(func(in *posture.Input) []posture.Result {
			if in.Object.Ref.Kind == "PodTemplate" {
				return nil
			}
			name := in.Workload.PodSpec.PriorityClassName
			classes := priorityClasses(in.Inventory)
			path := spath(in, "priorityClassName")
			accepted := in.Options.Availability.PriorityClasses
			switch {
			case name == "":
				if classes.globalDefault != "" {
					return nil
				}
				return []posture.Result{{Path: spath(in),
					Message:  "Pod has no priorityClassName: it runs at priority 0, evicted first under node pressure.",
					Evidence: []finding.Evidence{key("problem", "not-set")}}}
			case len(accepted) > 0 && !slices.Contains(accepted, name):
				return []posture.Result{{Path: path,
					Message:  "Pod uses priority class " + name + ", not one of the accepted " + strings.Join(accepted, ", ") + ".",
					Evidence: []finding.Evidence{key("problem", "not-accepted"), ev("priorityClassName", name)}}}
			case classes.live && !classes.names[name] && !strings.HasPrefix(name, "system-"):
				return []posture.Result{{Path: path,
					Message:  "Pod uses priority class " + name + ", which the cluster does not define: the API server refuses its pods.",
					Evidence: []finding.Evidence{key("problem", "undefined"), ev("priorityClassName", name)}}}
			}
			return nil
		}),
	}
}

// priorityClassSet is what the inventory says about PriorityClasses.
type priorityClassSet struct {
	names         map[string]bool
	globalDefault string
	// live is set when the classes were listed from a cluster, so a name
	// missing from names is missing from the cluster.
	live bool
}

type priorityClassesKey struct{}

func priorityClasses(inv *kube.Inventory) *priorityClassSet {
	return inv.Derived(priorityClassesKey{}, func() any {
		s := &priorityClassSet{names: map[string]bool{}}
		for _, o := range inv.OfKind("PriorityClass") {
			s.names[o.Meta.Name] = true
			if o.Source.Cluster != "" {
				s.live = true
			}
			if pc, ok := o.Typed.(*schedulingv1.PriorityClass); ok && pc.GlobalDefault {
				s.globalDefault = o.Meta.Name
			}
		}
		return s
	}).(*priorityClassSet)
}
