package audit

import (
	"time"

	"github.com/google/cel-go/interpreter"
)

// K8sEvent is an audit.k8s.io/v1 (or v1beta1) Event as the API server
// writes it. Request and response objects decode once, into generic maps,
// which is what rules read. Timestamps stay strings so that slightly different renderings
// (space-separated dates from SIEM exports) still decode; Normalize parses
// them.
type K8sEvent struct {
	Kind                     string            `json:"kind,omitempty"`
	APIVersion               string            `json:"apiVersion,omitempty"`
	Level                    string            `json:"level,omitempty"`
	AuditID                  string            `json:"auditID,omitempty"`
	Stage                    string            `json:"stage,omitempty"`
	RequestURI               string            `json:"requestURI,omitempty"`
	Verb                     string            `json:"verb,omitempty"`
	User                     UserInfo          `json:"user"`
	ImpersonatedUser         *UserInfo         `json:"impersonatedUser,omitempty"`
	SourceIPs                []string          `json:"sourceIPs,omitempty"`
	UserAgent                string            `json:"userAgent,omitempty"`
	ObjectRef                *ObjectReference  `json:"objectRef,omitempty"`
	ResponseStatus           *Status           `json:"responseStatus,omitempty"`
	RequestObject            map[string]any    `json:"requestObject,omitempty"`
	ResponseObject           map[string]any    `json:"responseObject,omitempty"`
	Timestamp                string            `json:"timestamp,omitempty"` // v1beta1
	RequestReceivedTimestamp string            `json:"requestReceivedTimestamp,omitempty"`
	StageTimestamp           string            `json:"stageTimestamp,omitempty"`
	Annotations              map[string]string `json:"annotations,omitempty"`
}

// UserInfo is the authenticated identity of a request.
type UserInfo struct {
	Username string              `json:"username,omitempty"`
	UID      string              `json:"uid,omitempty"`
	Groups   []string            `json:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

// ObjectReference is the object a request is about.
type ObjectReference struct {
	Resource    string `json:"resource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	UID         string `json:"uid,omitempty"`
	APIGroup    string `json:"apiGroup,omitempty"`
	APIVersion  string `json:"apiVersion,omitempty"`
	Subresource string `json:"subresource,omitempty"`
}

// Status is the subset of metav1.Status an audit event carries.
type Status struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Code    int32  `json:"code,omitempty"`
}

// Provider names where a cluster's control plane runs.
type Provider string

// The providers whose audit logs Palisade decodes.
const (
	ProviderSelfManaged Provider = "self-managed"
	ProviderEKS         Provider = "eks"
	ProviderGKE         Provider = "gke"
	ProviderAKS         Provider = "aks"
)

// ActorType classifies who made a request.
type ActorType string

// The actor types.
const (
	ActorUser           ActorType = "user"
	ActorServiceAccount ActorType = "serviceaccount"
	ActorNode           ActorType = "node"
	ActorAnonymous      ActorType = "anonymous"
	ActorSystem         ActorType = "system" // control-plane components and system:* identities
)

// Decision is the outcome of a request.
type Decision string

// The decisions.
const (
	DecisionAllowed   Decision = "allowed"
	DecisionForbidden Decision = "forbidden"
	DecisionError     Decision = "error"
)

// Actor is who made a request, with derived classification.
type Actor struct {
	Type     ActorType `json:"type"`
	Username string    `json:"username"`
	UID      string    `json:"uid,omitempty"`
	Groups   []string  `json:"groups,omitempty"`
	// Namespace and Name are set for service accounts (and Name for nodes).
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// Target is the object a request acted on.
type Target struct {
	Group       string `json:"group,omitempty"`
	Version     string `json:"version,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
}

// Event is one audit event in the schema every source normalizes to.
type Event struct {
	// Raw is the audit event as decoded (for GKE, as reconstructed).
	Raw K8sEvent `json:"raw"`

	Cluster    string    `json:"cluster,omitempty"`
	Provider   Provider  `json:"provider"`
	Source     string    `json:"source,omitempty"` // file name, webhook, log group…
	IngestTime time.Time `json:"ingestTime"`
	// Time is when the API server reached Stage (stageTimestamp, else the
	// v1beta1 timestamp, else when the request was received).
	Time time.Time `json:"time"`

	AuditID string `json:"auditID"`
	Stage   string `json:"stage"`
	Actor   Actor  `json:"actor"`
	// Impersonated is the identity Actor impersonated, when it did.
	Impersonated *Actor   `json:"impersonated,omitempty"`
	SourceIPs    []string `json:"sourceIPs,omitempty"`
	UserAgent    string   `json:"userAgent,omitempty"`
	Verb         string   `json:"verb"`
	URI          string   `json:"uri,omitempty"`
	Target       Target   `json:"target"`
	Decision     Decision `json:"decision"`
	Code         int      `json:"code,omitempty"`
	// Request and Response are the decoded request and response objects
	// when the audit level recorded them, else nil.
	Request  map[string]any `json:"request,omitempty"`
	Response map[string]any `json:"response,omitempty"`

	value map[string]any         // Value, built on first use
	act   interpreter.Activation // activation, built on first use
	pre   *prepared              // rule outcomes from Engine.Prepare
}

// Key returns the dedupe key: auditID and stage.
func (e *Event) Key() string { return e.AuditID + "/" + e.Stage }
