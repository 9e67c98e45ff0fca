package checks

// CIS Kubernetes Benchmark 5.1.5: "Ensure that default service accounts are
// not actively used. ... For each namespace in the cluster, review the rights
// assigned to the default service account and ensure that it has no roles or
// cluster roles bound to it apart from the defaults." The check
// default-service-account covers the other half: pods that run as it.
// Kubernetes' own bootstrap bindings are left out. Added in check version 2.

import (
	"strings"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// RBACDefaultServiceAccountBinding reports bindings that grant a role to a
// namespace's default service account.
func RBACDefaultServiceAccountBinding() posture.Check {
	return posture.Check{
		ID:          "rbac-default-service-account-binding",
		Title:       "Role is bound to a default service account",
		Level:       posture.LevelBaseline,
		Severity:    finding.SeverityMedium,
		Category:    "rbac",
		Rationale:   "Every pod of the namespace that names no service account of its own runs as the default one, so its permissions reach pods that never asked for them.",
		Remediation: "Create a dedicated service account for the workload that needs the role, bind the role to it, and set spec.serviceAccountName.",
		Scope:       posture.ScopeObject,
		Kinds:       bindingKinds,
		Versions: []posture.Versioned{
			{MinVersion: 2, Eval: defaultSABindings(exemptSystemNames)},
			{MinVersion: 3, Eval: defaultSABindings(exemptSystemNamespaces)},
			{MinVersion: 4, Eval: defaultSABindings(exemptLabelled)},
		},
	}
}

// defaultSABindings returns the check's evaluation; level is builtIn's.
func defaultSABindings(level exemption) func(*posture.Input) []posture.Result {
	return func(in *posture.Input) []posture.Result {
		o := in.Object
		subjects, ref, ok := subjectsOf(o)
		if !ok || builtIn(o, level) {
			return nil
		}
		var out []posture.Result
		for i, s := range subjects {
			ns, ok := defaultServiceAccount(s.Kind, s.Name, s.Namespace, o.Ref.Namespace)
			if !ok {
				continue
			}
			at := "namespace " + ns
			if ns == "" {
				// The API server refuses a ServiceAccount subject without
				// a namespace in a ClusterRoleBinding; a manifest may have one.
				at = "an unnamed namespace"
			}
			out = append(out, posture.Result{
				Path:     []string{"subjects", itoa(i)},
				Message:  o.Ref.Kind + " " + o.Ref.Name + " binds " + ref.Kind + " " + ref.Name + " to the default service account of " + at + ".",
				Evidence: []finding.Evidence{key("subject", "system:serviceaccount:"+ns+":default"), ev("role", ref.Kind+"/"+ref.Name)},
			})
		}
		return out
	}
}

// defaultServiceAccount reports whether a subject is a namespace's default
// service account, named as a ServiceAccount subject or as its user name
// system:serviceaccount:<ns>:default, and returns the namespace. A
// ServiceAccount subject without a namespace is in the binding's.
func defaultServiceAccount(kind, name, namespace, bindingNS string) (string, bool) {
	switch kind {
	case "ServiceAccount":
		if name != "default" {
			return "", false
		}
		if namespace == "" {
			namespace = bindingNS
		}
		return namespace, true
	case "User":
		rest, ok := strings.CutPrefix(name, "system:serviceaccount:")
		if !ok {
			return "", false
		}
		ns, sa, ok := strings.Cut(rest, ":")
		return ns, ok && sa == "default" && ns != ""
	}
	return "", false
}
