package config

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Availability tunes the posture checks of the reliability category
// (replicas, priority-class): what a team counts as enough replicas and
// which priority classes its workloads may use. The zero value is the
// default.
type Availability struct {
	// MinReplicas is the fewest replicas a long-running workload (and an
	// autoscaler's minReplicas) may have; 0 means DefaultMinReplicas. Two
	// is the least that survives the loss of one pod or node.
	MinReplicas int
	// PriorityClasses are the priority classes workloads may use; none
	// means any (a pod without one is still reported).
	PriorityClasses []string
}

// DefaultMinReplicas is Availability.MinReplicas when unset.
const DefaultMinReplicas = 2

// Replicas returns the minimum replica count, defaulted.
func (a Availability) Replicas() int {
	if a.MinReplicas <= 0 {
		return DefaultMinReplicas
	}
	return a.MinReplicas
}

func (d *decoder) availability(path string, n *yaml.Node, a *Availability) {
	d.mapping(path, n, map[string]fieldFunc{
		"minReplicas":     func(p string, v *yaml.Node) { d.integer(p, v, &a.MinReplicas) },
		"priorityClasses": func(p string, v *yaml.Node) { d.strings(p, v, &a.PriorityClasses, false) },
	})
}

func (a *Availability) validate(v *validator, path string) {
	if a.MinReplicas < 0 {
		v.add(path+".minReplicas", "must not be negative, got %d (0 means the default, %d)", a.MinReplicas, DefaultMinReplicas)
	}
	for i, pc := range a.PriorityClasses {
		if pc == "" {
			v.add(path+".priorityClasses["+strconv.Itoa(i)+"]", "empty priority class name")
		}
	}
}
