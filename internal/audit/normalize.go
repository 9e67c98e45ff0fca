package audit

import (
	"strings"
	"time"
)

// Source describes where events came from; Normalize copies it into every
// event.
type Source struct {
	Name     string   // file name, "webhook", a log group
	Cluster  string   // cluster name, when known
	Provider Provider // empty means: derive from the envelope, else self-managed
}

// Normalize derives the normalized Event from a raw audit event. It never
// fails: fields it cannot derive stay empty.
func Normalize(raw *K8sEvent, src Source, ingest time.Time) *Event {
	e := &Event{Raw: *raw}
	normalizeRaw(e, src, ingest)
	return e
}

// normalizeRaw derives the normalized fields of e from e.Raw, in place: the
// decoder decodes straight into a new Event's Raw and so saves Normalize's
// copy of the raw event (a few hundred bytes per event, on the hot path).
func normalizeRaw(e *Event, src Source, ingest time.Time) {
	raw := &e.Raw
	e.Cluster, e.Provider, e.Source, e.IngestTime = src.Cluster, src.Provider, src.Name, ingest
	e.AuditID, e.Stage, e.Actor = raw.AuditID, raw.Stage, actorOf(&raw.User)
	e.SourceIPs, e.UserAgent, e.Verb, e.URI = raw.SourceIPs, raw.UserAgent, raw.Verb, raw.RequestURI
	if e.Provider == "" {
		e.Provider = ProviderSelfManaged
	}
	for _, ts := range [...]string{raw.StageTimestamp, raw.Timestamp, raw.RequestReceivedTimestamp} {
		if t, ok := parseTime(ts); ok {
			e.Time = t
			break
		}
	}
	if raw.ImpersonatedUser != nil {
		a := actorOf(raw.ImpersonatedUser)
		e.Impersonated = &a
	}
	if r := raw.ObjectRef; r != nil {
		e.Target = Target{Group: r.APIGroup, Version: r.APIVersion, Resource: r.Resource,
			Subresource: r.Subresource, Namespace: r.Namespace, Name: r.Name}
	}
	if raw.ResponseStatus != nil {
		e.Code = int(raw.ResponseStatus.Code)
	}
	e.Decision = decisionOf(e.Code, raw.Annotations["authorization.k8s.io/decision"])
	e.Request = raw.RequestObject
	e.Response = raw.ResponseObject
	if e.Target.Name == "" && e.Verb == "create" {
		// Creates name the object in the body, not in objectRef.
		e.Target.Name = nameOf(e.Request)
		if e.Target.Name == "" {
			e.Target.Name = nameOf(e.Response)
		}
	}
}

// actorOf classifies a user.
func actorOf(u *UserInfo) Actor {
	a := Actor{Username: u.Username, UID: u.UID, Groups: u.Groups}
	name := u.Username
	switch {
	case name == "system:anonymous" || (name == "" && hasGroup(u.Groups, "system:unauthenticated")):
		a.Type = ActorAnonymous
	case strings.HasPrefix(name, "system:serviceaccount:"):
		a.Type = ActorServiceAccount
		rest := strings.TrimPrefix(name, "system:serviceaccount:")
		if ns, n, ok := strings.Cut(rest, ":"); ok {
			a.Namespace, a.Name = ns, n
		}
	case strings.HasPrefix(name, "system:node:") || hasGroup(u.Groups, "system:nodes"):
		a.Type = ActorNode
		a.Name = strings.TrimPrefix(name, "system:node:")
	case strings.HasPrefix(name, "system:") || strings.HasPrefix(name, "eks:") || strings.HasPrefix(name, "aksService"):
		a.Type = ActorSystem
	case name == "":
		// No identity recorded (a truncated or synthetic event): unknown.
	default:
		a.Type = ActorUser
	}
	return a
}

func hasGroup(groups []string, g string) bool {
	for _, x := range groups {
		if x == g {
			return true
		}
	}
	return false
}

// decisionOf derives the decision from the response code and the
// authorizer's annotation (which is all a ResponseStarted event of a
// long-running request such as exec carries).
func decisionOf(code int, annotation string) Decision {
	switch {
	case code == 401 || code == 403:
		return DecisionForbidden
	case code >= 400:
		return DecisionError
	case code >= 100:
		return DecisionAllowed
	case annotation == "forbid":
		return DecisionForbidden
	case annotation == "allow":
		return DecisionAllowed
	}
	return ""
}

func nameOf(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	n, _ := md["name"].(string)
	return n
}

// parseTime accepts RFC 3339 and the "2006-01-02 15:04:05.999" rendering
// some log pipelines use.
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
