package checks

// CIS Kubernetes Benchmark 1.2.1, "Ensure that the --anonymous-auth
// argument is set to false", judged from outside the control plane: an
// unauthenticated request to list namespaces succeeded, so anonymous
// authentication is on and RBAC grants system:anonymous (or
// system:unauthenticated) more than the public discovery endpoints. This
// works where the API server's flags are not visible (EKS, GKE, AKS). The
// request is made before the scan (continuous.ProbeEndpoint, in `palisade
// serve` and `posture scan --kubeconfig`); manifests are never probed.

import (
	"strconv"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// AnonymousAPIAccess reports clusters whose API lets anonymous users read it.
func AnonymousAPIAccess() posture.Check {
	return posture.Check{
		ID:       "anonymous-api-access",
		Title:    "Anonymous users can read the cluster",
		Level:    posture.LevelBaseline,
		Severity: finding.SeverityCritical,
		Category: "exposure",
		Rationale: "Anyone who reaches the API endpoint can read the cluster without credentials: object names, " +
			"configuration and whatever else RBAC grants system:anonymous or system:unauthenticated.",
		Remediation: "Remove the RoleBindings and ClusterRoleBindings that grant system:anonymous or system:unauthenticated " +
			"more than the default discovery roles (palisade posture who-can list namespaces shows them), and start the API " +
			"server with --anonymous-auth=false where the distribution allows it.",
		Scope:    posture.ScopeInventory,
		Versions: []posture.Versioned{{MinVersion: 6, Eval: anonymousAPIAccess}},
	}
}

func anonymousAPIAccess(in *posture.Input) []posture.Result {
	p := in.Options.Cluster.Endpoint
	if p == nil || p.AnonymousStatus != 200 {
		return nil
	}
	return []posture.Result{endpointResult(in, posture.Result{
		Message: "An unauthenticated request to " + p.URL + " listed namespaces (HTTP 200): anonymous authentication is on " +
			"and RBAC lets anonymous users read the cluster.",
		Evidence: []finding.Evidence{key("url", p.URL), ev("anonymousStatus", strconv.Itoa(p.AnonymousStatus))},
	})}
}

// endpointResult places a finding about the cluster's endpoint on the
// cluster itself, located at the inventory's first object when there is one.
func endpointResult(in *posture.Input, r posture.Result) posture.Result {
	r.Ref.Kind, r.Ref.Name = "Cluster", clusterName(in.Inventory)
	if len(in.Inventory.Objects) > 0 {
		r.At = in.Inventory.Objects[0]
	}
	return r
}
