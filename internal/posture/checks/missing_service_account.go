package checks

// A pod runs as the ServiceAccount its spec names (serviceAccountName, or
// the deprecated serviceAccount when that is empty). When that account
// does not exist, the ServiceAccount admission plugin refuses the pod, so
// the workload never starts; and whoever creates an account of that name
// later decides the identity, tokens and API permissions of its pods. The
// account "default" exists in every namespace (the ServiceAccount
// controller creates it: builtInObjects) and is not judged. A live scan judges a
// namespace only when it listed ServiceAccounts there: every namespace
// holds "default", so a namespace without any means they were not listed.
// kube-linter and Kubescape non-existent-service-account.

import (
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture"
)

// MissingServiceAccount reports workloads naming a ServiceAccount that does
// not exist.
func MissingServiceAccount() posture.Check {
	return posture.Check{
		ID:          "missing-service-account",
		Title:       "Workload names a ServiceAccount that does not exist",
		Level:       posture.LevelRestricted,
		Severity:    finding.SeverityLow,
		Category:    "reliability",
		Rationale:   "The API server refuses pods whose ServiceAccount does not exist, so the workload does not start; whoever creates an account of that name later decides the pods' identity and API permissions.",
		Remediation: "Create the ServiceAccount in the workload's namespace with the manifests that deploy it, or correct the name in serviceAccountName.",
		Scope:       posture.ScopeWorkload,
		Needs:       []string{"ServiceAccount"},
		Versions:    []posture.Versioned{{MinVersion: 8, Eval: evalMissingServiceAccount}}, // new in version 8
	}
}

func evalMissingServiceAccount(in *posture.Input) []posture.Result {
	w, o := in.Workload, in.Workload.Object
	sa, field := w.PodSpec.ServiceAccountName, "serviceAccountName"
	if sa == "" {
		sa, field = w.PodSpec.DeprecatedServiceAccount, "serviceAccount"
	}
	if sa == "" {
		return nil
	}
	accounts := objectsNamed(in.Inventory, "ServiceAccount")
	ns := kube.AppliedNamespace(o.Meta.Namespace)
	if accounts.get(o, ns, sa) != nil || impliedBy(in.Inventory).has(o, "ServiceAccount", ns, sa, 8) || (liveObject(o) && !accounts.any(o, ns)) {
		return nil
	}
	return []posture.Result{{Path: spath(in, field),
		Message:  o.Ref.Kind + " " + ns + "/" + o.Meta.Name + " runs as ServiceAccount " + sa + ", which does not exist in namespace " + ns + " " + scannedSet(o) + ".",
		Evidence: []finding.Evidence{key("serviceAccount", sa)}}}
}
