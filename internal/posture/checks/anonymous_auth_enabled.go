package checks

// CIS Kubernetes Benchmark 1.2.1, "Ensure that the --anonymous-auth
// argument is set to false", judged from outside the control plane: an
// unauthenticated request was refused with 403 (authenticated as
// system:anonymous, then denied by RBAC) rather than 401 (not
// authenticated at all). Nothing is readable today, but a single binding
// to system:anonymous would open the cluster. Some distributions keep
// anonymous authentication on for /healthz and /version, hence medium.

import (
	"strconv"

	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// AnonymousAuthEnabled reports clusters whose API authenticates anonymous
// requests, even where RBAC refuses them.
func AnonymousAuthEnabled() posture.Check {
	return posture.Check{
		ID:       "anonymous-auth-enabled",
		Title:    "Anonymous authentication is enabled",
		Level:    posture.LevelRestricted,
		Severity: finding.SeverityMedium,
		Category: "exposure",
		Rationale: "The API server accepts unauthenticated requests as system:anonymous; only RBAC stands between them " +
			"and the cluster, so one careless binding to system:anonymous or system:unauthenticated opens it.",
		Remediation: "Start the API server with --anonymous-auth=false, or (Kubernetes 1.32+) restrict anonymous " +
			"authentication to the health endpoints with an AuthenticationConfiguration anonymous.conditions list.",
		Scope:    posture.ScopeInventory,
		Versions: []posture.Versioned{{MinVersion: 6, Eval: anonymousAuthEnabled}},
	}
}

func anonymousAuthEnabled(in *posture.Input) []posture.Result {
	p := in.Options.Cluster.Endpoint
	if p == nil || p.AnonymousStatus != 403 {
		return nil
	}
	return []posture.Result{endpointResult(in, posture.Result{
		Message: "An unauthenticated request to " + p.URL + " was refused with HTTP 403, not 401: the API server " +
			"authenticates anonymous requests and only RBAC refuses them.",
		Evidence: []finding.Evidence{key("url", p.URL), ev("anonymousStatus", strconv.Itoa(p.AnonymousStatus))},
	})}
}
