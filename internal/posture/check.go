package posture

import (
	"time"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/posture/versions"
)

// Level groups checks by how strict they are, like the Pod Security
// Standards levels.
type Level string

// The levels, from least to most strict.
const (
	LevelBaseline   Level = "baseline"   // known privilege escalations and exposures
	LevelRestricted Level = "restricted" // hardening best practice
)

// Scope says what a check evaluates, and so how often Eval is called.
type Scope int

// The scopes.
const (
	// ScopeWorkload checks are called once per pod spec (Input.Workload).
	ScopeWorkload Scope = iota + 1
	// ScopeObject checks are called once per object of Check.Kinds (Input.Object).
	ScopeObject
	// ScopeInventory checks are called once per scan, to relate objects
	// (a namespace and its NetworkPolicies); each Result names its object.
	ScopeInventory
)

// Version is the version of the check behaviour: a scan pinned to version
// N evaluates each check as its newest Versioned with MinVersion ≤ N.
type Version int

// Latest pins nothing: every check at its newest behaviour.
const Latest Version = 0

// Check is one posture check.
type Check struct {
	// ID names the check, as in "posture/<ID>" rule IDs; never reused,
	// never renamed.
	ID string
	// Title is a one-line summary of the problem the check finds.
	Title string
	// Level is how strict the check is.
	Level Level
	// Severity is the severity of a finding unless its Result overrides it.
	Severity finding.Severity
	// Category groups checks in reports: workload, rbac, network, namespace,
	// secrets, exposure, cluster, reliability (references that resolve to
	// nothing, fields that are ignored or repeated).
	Category string
	// Rationale says why the problem matters; Remediation how to fix it.
	Rationale   string
	Remediation string
	// Scope says what Eval is called with; Kinds lists the kinds of
	// ScopeObject checks.
	Scope Scope
	Kinds []string
	// Needs lists the kinds whose absence the check reads as a problem (a
	// Service no workload is behind, a namespace without NetworkPolicies).
	// On an inventory that could not list one of them
	// (kube.Inventory.Unlisted: RBAC hid it from a live scan) the check is
	// not evaluated, and the outcome warns: absence proves nothing there.
	Needs []string
	// Versions are the check's behaviours, MinVersion strictly increasing.
	Versions []Versioned
}

// Versioned is a check's behaviour from MinVersion on.
type Versioned struct {
	MinVersion Version
	// Eval returns one Result per problem found; none means pass. It is
	// pure: no I/O, no clock, no state.
	Eval func(*Input) []Result
}

// Input is what a check evaluates.
type Input struct {
	// Workload is set for ScopeWorkload checks.
	Workload *kube.Workload
	// Object is the object evaluated: the workload's object for
	// ScopeWorkload, the object for ScopeObject, nil for ScopeInventory.
	Object *kube.Object
	// Inventory is everything scanned together, for lookups.
	Inventory *kube.Inventory
	// Options are the scan's settings.
	Options *Options
}

// Options are the settings of a scan that checks read.
type Options struct {
	// Registries says which registries images may come from.
	Registries config.Registries
	// IgnoreAnnotationExceptions switches off the palisade.dev/exceptions
	// annotation, for admins who accept exceptions only from config.
	IgnoreAnnotationExceptions bool
	// Availability tunes the reliability checks: minimum replicas and
	// the accepted priority classes.
	Availability config.Availability
	// Cluster is what the version and API checks know of the target
	// cluster; its zero value means manifests of an unknown cluster.
	Cluster ClusterInfo
	// Images are the image scans workloads are joined to; nil means no
	// image data, and the checks that need it report nothing.
	Images ImageVulns
	// RequiredLabels and RequiredAnnotations are the metadata every
	// workload must carry (posture.requiredLabels, requiredAnnotations);
	// none means the required-metadata check reports nothing.
	RequiredLabels, RequiredAnnotations []config.RequiredKey
	// Sandboxes says how Agent Sandbox workloads are judged: the
	// RuntimeClasses that isolate untrusted code, the limits' ceilings.
	Sandboxes config.Sandboxes
}

// ClusterInfo is the Kubernetes version a scan judges against.
type ClusterInfo struct {
	// GitVersion is the cluster's /version gitVersion ("v1.31.4-eks-1a2b");
	// "" when unknown, as for manifests: the version checks then pass.
	GitVersion string
	// Distribution is upstream, eks, gke or aks; "" detects it from GitVersion.
	Distribution string
	// TargetVersion ("1.32") is the version deprecated and removed APIs are
	// judged against; "" means GitVersion's, else the oldest Node's in the
	// inventory, else the newest in Versions.
	TargetVersion string
	// Now is the scan time, for end-of-support dates; zero means the
	// versions table's asOf date. Checks never read the clock.
	Now time.Time
	// Versions is the release table; nil means the embedded one.
	Versions *versions.Table
	// Endpoint is what probing the cluster's API endpoint found; nil when
	// it was not probed (manifests), and the endpoint checks then pass.
	Endpoint *EndpointProbe
}

// EndpointProbe is what requests to a cluster's API endpoint found. It is
// gathered before the scan, so the checks that judge it stay pure.
type EndpointProbe struct {
	// URL is the API server URL probed.
	URL string
	// AnonymousStatus is the HTTP status of an unauthenticated request to
	// list namespaces; 0 when that request failed.
	AnonymousStatus int
	// Addresses are the IP addresses of the URL's host (resolved when it
	// is a name); none when resolving failed.
	Addresses []string
}

// Result is one problem a check found.
type Result struct {
	// Object is the object the problem is in; nil means Input.Object. When
	// both are nil, Ref names what the problem is about (such as a
	// namespace declared by no object).
	Object *kube.Object
	Ref    kube.Ref
	// At locates a finding about Ref: its file and line are used.
	At *kube.Object
	// Container is the container the problem is in, if any.
	Container string
	// Image is the container's image, if any.
	Image string
	// Path is the field path below the object's root, for the line.
	Path []string
	// Message says what is wrong, specifically.
	Message string
	// Severity overrides the check's severity when set.
	Severity finding.Severity
	// Evidence are the observed facts; key evidence makes the finding ID.
	Evidence []finding.Evidence
}
