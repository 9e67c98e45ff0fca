package audit

import "github.com/google/cel-go/interpreter"

// Value returns the event as the map CEL conditions see as e:
//
//	e.auditID e.stage e.level e.cluster e.provider e.source e.verb e.uri
//	e.userAgent e.sourceIPs e.decision e.code e.annotations
//	e.actor.{type,username,uid,groups,namespace,name}
//	e.impersonated.{type,username,…} (all empty when not impersonating)
//	e.target.{group,version,resource,subresource,namespace,name}
//	e.request e.response (the objects; {} when absent)
//	e.podSpec: the pod spec in the request of a pod or of any workload
//	  (Deployment, DaemonSet, Job, CronJob…; {} otherwise)
//	e.containers: init, regular and ephemeral containers of e.podSpec
//
// Every key is always present, so conditions need has() only inside
// request and response. The map is built once per event and cached.
func (e *Event) Value() map[string]any {
	if e.value != nil {
		return e.value
	}
	ann := e.Raw.Annotations
	if ann == nil {
		ann = map[string]string{}
	}
	imp := map[string]any{"type": "", "username": "", "uid": "", "groups": []string{}, "namespace": "", "name": ""}
	if e.Impersonated != nil {
		imp = actorValue(e.Impersonated)
	}
	req, resp := e.Request, e.Response
	if req == nil {
		req = map[string]any{}
	}
	if resp == nil {
		resp = map[string]any{}
	}
	spec := podSpecOf(e.Target.Resource, req)
	containers := []any{}
	for _, k := range []string{"initContainers", "containers", "ephemeralContainers"} {
		if l, ok := spec[k].([]any); ok {
			containers = append(containers, l...)
		}
	}
	if e.Target.Subresource == "ephemeralcontainers" {
		containers = []any{}
		if l, ok := spec["ephemeralContainers"].([]any); ok {
			containers = l
		}
	}
	ips := e.SourceIPs
	if ips == nil {
		ips = []string{}
	}
	e.value = map[string]any{
		"auditID":      e.AuditID,
		"stage":        e.Stage,
		"level":        e.Raw.Level,
		"cluster":      e.Cluster,
		"provider":     string(e.Provider),
		"source":       e.Source,
		"verb":         e.Verb,
		"uri":          e.URI,
		"userAgent":    e.UserAgent,
		"sourceIPs":    ips,
		"decision":     string(e.Decision),
		"code":         int64(e.Code),
		"annotations":  ann,
		"actor":        actorValue(&e.Actor),
		"impersonated": imp,
		"target": map[string]any{
			"group": e.Target.Group, "version": e.Target.Version, "resource": e.Target.Resource,
			"subresource": e.Target.Subresource, "namespace": e.Target.Namespace, "name": e.Target.Name,
		},
		"request":    req,
		"response":   resp,
		"podSpec":    spec,
		"containers": containers,
	}
	return e.value
}

func actorValue(a *Actor) map[string]any {
	groups := a.Groups
	if groups == nil {
		groups = []string{}
	}
	return map[string]any{"type": string(a.Type), "username": a.Username, "uid": a.UID,
		"groups": groups, "namespace": a.Namespace, "name": a.Name}
}

// activation returns the CEL activation binding e, built once per event
// rather than once per rule.
func (e *Event) activation() interpreter.Activation {
	if e.act == nil {
		act, err := interpreter.NewActivation(map[string]any{"e": e.Value()})
		if err != nil {
			act = interpreter.EmptyActivation()
		}
		e.act = act
	}
	return e.act
}

// field returns the string at a dotted path of Value ("actor.username").
func (e *Event) field(path string) string {
	var cur any = e.Value()
	for start := 0; start <= len(path); {
		end := start
		for end < len(path) && path[end] != '.' {
			end++
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[path[start:end]]
		start = end + 1
	}
	switch v := cur.(type) {
	case string:
		return v
	case []string:
		if len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// podSpecOf finds the pod spec in a request object: a Pod's spec, a
// workload's template, a CronJob's job template.
func podSpecOf(resource string, obj map[string]any) map[string]any {
	spec, _ := obj["spec"].(map[string]any)
	switch resource {
	case "pods":
	case "cronjobs":
		jt, _ := spec["jobTemplate"].(map[string]any)
		js, _ := jt["spec"].(map[string]any)
		spec = templateSpec(js)
	case "deployments", "daemonsets", "statefulsets", "replicasets", "jobs", "replicationcontrollers":
		spec = templateSpec(spec)
	default:
		spec = nil
	}
	if spec == nil {
		return map[string]any{}
	}
	return spec
}

func templateSpec(spec map[string]any) map[string]any {
	t, _ := spec["template"].(map[string]any)
	s, _ := t["spec"].(map[string]any)
	return s
}

// eventStrings are the string fields of Value that are always present, with
// Go accessors giving exactly what Value holds: conditions that only
// compare them run without building Value (see nativeBool). At most 64.
var eventStrings = []eventString{
	{"stage", func(e *Event) string { return e.Stage }},
	{"verb", func(e *Event) string { return e.Verb }},
	{"target.resource", func(e *Event) string { return e.Target.Resource }},
	{"target.subresource", func(e *Event) string { return e.Target.Subresource }},
	{"decision", func(e *Event) string { return string(e.Decision) }},
	{"actor.type", func(e *Event) string { return string(e.Actor.Type) }},
	{"auditID", func(e *Event) string { return e.AuditID }},
	{"level", func(e *Event) string { return e.Raw.Level }},
	{"cluster", func(e *Event) string { return e.Cluster }},
	{"provider", func(e *Event) string { return string(e.Provider) }},
	{"source", func(e *Event) string { return e.Source }},
	{"uri", func(e *Event) string { return e.URI }},
	{"userAgent", func(e *Event) string { return e.UserAgent }},
	{"actor.username", func(e *Event) string { return e.Actor.Username }},
	{"actor.uid", func(e *Event) string { return e.Actor.UID }},
	{"actor.namespace", func(e *Event) string { return e.Actor.Namespace }},
	{"actor.name", func(e *Event) string { return e.Actor.Name }},
	{"impersonated.type", func(e *Event) string { return string(impersonated(e).Type) }},
	{"impersonated.username", func(e *Event) string { return impersonated(e).Username }},
	{"impersonated.uid", func(e *Event) string { return impersonated(e).UID }},
	{"impersonated.namespace", func(e *Event) string { return impersonated(e).Namespace }},
	{"impersonated.name", func(e *Event) string { return impersonated(e).Name }},
	{"target.group", func(e *Event) string { return e.Target.Group }},
	{"target.version", func(e *Event) string { return e.Target.Version }},
	{"target.namespace", func(e *Event) string { return e.Target.Namespace }},
	{"target.name", func(e *Event) string { return e.Target.Name }},
}

type eventString struct {
	path string
	get  func(*Event) string
}

// indexedFields are the bits of the eventStrings the engine's rule index
// is keyed by (the first six, see ruleIndex).
const indexedFields = 1<<6 - 1

// eventLists are Value's lists of strings, likewise.
var eventLists = []struct {
	path string
	get  func(*Event) []string
}{
	{"sourceIPs", func(e *Event) []string { return e.SourceIPs }},
	{"actor.groups", func(e *Event) []string { return e.Actor.Groups }},
	{"impersonated.groups", func(e *Event) []string { return impersonated(e).Groups }},
}

var noActor = &Actor{}

func impersonated(e *Event) *Actor {
	if e.Impersonated == nil {
		return noActor
	}
	return e.Impersonated
}
