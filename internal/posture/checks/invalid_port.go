package checks

// Port names are IANA service names (at most 15 lowercase letters, digits
// and '-', with a letter, no leading, trailing or double '-') and port
// numbers lie in 1–65535. The API server refuses a Service whose
// targetPort, or a pod template whose container port, breaks either rule,
// so the manifest cannot be applied; a tool that applies it anyway
// (a failed Helm upgrade) leaves the previous version running. kube-linter
// invalid-target-ports.

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// InvalidPort reports Service target ports and container ports whose name
// or number the API server refuses.
func InvalidPort() posture.Check {
	return posture.Check{
		ID:          "invalid-port",
		Title:       "Port name or number is invalid",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "The API server refuses a Service or workload with an invalid port name or number, so the manifest cannot be applied and the change it carries does not happen.",
		Remediation: "Use port numbers from 1 to 65535 and names of at most 15 lowercase letters, digits and single dashes, with at least one letter.",
		Scope:       posture.ScopeInventory,
		Kinds:       append([]string{"Service", "PodTemplate"}, isolationKinds...),
		Versions:    []posture.Versioned{{MinVersion: 8, Eval: evalInvalidPort}}, // new in version 8
	}
}

func evalInvalidPort(in *posture.Input) []posture.Result {
	var out []posture.Result
	for _, o := range in.Inventory.OfKind("Service") {
		svc, ok := o.Typed.(*corev1.Service)
		if !ok {
			continue
		}
		for i, p := range svc.Spec.Ports {
			if problems := targetPortProblems(p.TargetPort); len(problems) > 0 {
				out = append(out, posture.Result{Object: o, Path: []string{"spec", "ports", itoa(i), "targetPort"},
					Message:  "Service " + o.Meta.Name + ": targetPort " + p.TargetPort.String() + " is invalid: " + strings.Join(problems, "; ") + ".",
					Evidence: []finding.Evidence{key("field", "targetPort"), key("port", p.TargetPort.String())}})
			}
		}
	}
	for _, w := range in.Inventory.Workloads {
		sub := &posture.Input{Workload: w, Object: w.Object, Inventory: in.Inventory, Options: in.Options}
		out = append(out, eachContainer(sub, func(c kube.ContainerRef) []posture.Result {
			var rs []posture.Result
			for i, p := range c.Container.Ports {
				var problems []string
				if p.Name != "" {
					problems = append(problems, validation.IsValidPortName(p.Name)...)
				}
				problems = append(problems, validation.IsValidPortNum(int(p.ContainerPort))...)
				if len(problems) == 0 {
					continue
				}
				port := p.Name
				if port == "" {
					port = itoa(int(p.ContainerPort))
				}
				rs = append(rs, posture.Result{Object: w.Object, Path: cpath(sub, c, "ports", itoa(i)),
					Message:  "Container " + c.Container.Name + ": port " + port + " (" + itoa(int(p.ContainerPort)) + ") is invalid: " + strings.Join(problems, "; ") + ".",
					Evidence: []finding.Evidence{key("field", "containerPort"), key("port", port)}})
			}
			return rs
		})...)
	}
	return out
}

// targetPortProblems returns why the API server refuses a Service's
// targetPort; an absent one (0) defaults to the port.
func targetPortProblems(p intstr.IntOrString) []string {
	if p.Type == intstr.String {
		return validation.IsValidPortName(p.StrVal)
	}
	if p.IntVal == 0 {
		return nil
	}
	return validation.IsValidPortNum(int(p.IntVal))
}
