package falco

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/audit"
)

// extractor returns a field's values and whether the field exists on the
// event. Single-valued fields return one value.
type extractor func(x *evalCtx) ([]string, bool)

// evalCtx caches what several fields of one event need.
type evalCtx struct {
	e   *audit.Event
	raw map[string]any // the raw event as generic JSON, for jevt.value
}

func one(s string) ([]string, bool) {
	if s == "" {
		return nil, false
	}
	return []string{s}, true
}

func boolStr(b bool) string { return strconv.FormatBool(b) }

// simpleFields are the ka.* fields without an argument.
var simpleFields = map[string]extractor{
	"ka.auditid":            func(x *evalCtx) ([]string, bool) { return one(x.e.AuditID) },
	"ka.stage":              func(x *evalCtx) ([]string, bool) { return one(x.e.Stage) },
	"ka.auth.decision":      func(x *evalCtx) ([]string, bool) { return one(x.e.Raw.Annotations["authorization.k8s.io/decision"]) },
	"ka.auth.reason":        func(x *evalCtx) ([]string, bool) { return one(x.e.Raw.Annotations["authorization.k8s.io/reason"]) },
	"ka.user.name":          func(x *evalCtx) ([]string, bool) { return one(x.e.Actor.Username) },
	"ka.user.groups":        func(x *evalCtx) ([]string, bool) { return x.e.Actor.Groups, len(x.e.Actor.Groups) > 0 },
	"ka.impuser.name":       func(x *evalCtx) ([]string, bool) { return imp(x) },
	"ka.verb":               func(x *evalCtx) ([]string, bool) { return one(x.e.Verb) },
	"ka.uri":                func(x *evalCtx) ([]string, bool) { return one(x.e.URI) },
	"ka.target.name":        func(x *evalCtx) ([]string, bool) { return one(x.e.Target.Name) },
	"ka.target.namespace":   func(x *evalCtx) ([]string, bool) { return one(x.e.Target.Namespace) },
	"ka.target.resource":    func(x *evalCtx) ([]string, bool) { return one(x.e.Target.Resource) },
	"ka.target.subresource": func(x *evalCtx) ([]string, bool) { return one(x.e.Target.Subresource) },
	"ka.useragent":          func(x *evalCtx) ([]string, bool) { return one(x.e.UserAgent) },
	"ka.sourceips":          func(x *evalCtx) ([]string, bool) { return x.e.SourceIPs, len(x.e.SourceIPs) > 0 },
	"ka.cluster.name":       func(x *evalCtx) ([]string, bool) { return one(x.e.Cluster) },
	"ka.response.code": func(x *evalCtx) ([]string, bool) {
		if x.e.Code == 0 {
			return nil, false
		}
		return []string{strconv.Itoa(x.e.Code)}, true
	},
	"ka.response.reason": func(x *evalCtx) ([]string, bool) {
		if s := x.e.Raw.ResponseStatus; s != nil {
			return one(s.Reason)
		}
		return nil, false
	},
	"ka.resp.name":            func(x *evalCtx) ([]string, bool) { return str(x.e.Response, "metadata", "name") },
	"ka.req.binding.role":     func(x *evalCtx) ([]string, bool) { return str(x.e.Request, "roleRef", "name") },
	"ka.req.binding.subjects": func(x *evalCtx) ([]string, bool) { return each(list(x.e.Request, "subjects"), "name") },
	"ka.req.configmap.name":   func(x *evalCtx) ([]string, bool) { return str(x.e.Request, "metadata", "name") },
	"ka.req.configmap.obj":    func(x *evalCtx) ([]string, bool) { return jsonOf(x.e.Request["data"]) },
	"ka.req.service.type":     func(x *evalCtx) ([]string, bool) { return str(x.e.Request, "spec", "type") },
	"ka.req.service.ports":    func(x *evalCtx) ([]string, bool) { return eachJSON(list(x.e.Request, "spec", "ports")) },
	"ka.req.role.rules":       func(x *evalCtx) ([]string, bool) { return eachJSON(list(x.e.Request, "rules")) },
	"ka.req.role.rules.verbs": func(x *evalCtx) ([]string, bool) { return flat(list(x.e.Request, "rules"), "verbs") },
	"ka.req.role.rules.resources": func(x *evalCtx) ([]string, bool) {
		return flat(list(x.e.Request, "rules"), "resources")
	},
	"ka.req.role.rules.apiGroups": func(x *evalCtx) ([]string, bool) { return flat(list(x.e.Request, "rules"), "apiGroups") },
	"ka.req.role.rules.nonResourceURLs": func(x *evalCtx) ([]string, bool) {
		return flat(list(x.e.Request, "rules"), "nonResourceURLs")
	},
	"ka.req.pod.host_network":       func(x *evalCtx) ([]string, bool) { return podBool(x, "hostNetwork") },
	"ka.req.pod.host_pid":           func(x *evalCtx) ([]string, bool) { return podBool(x, "hostPID") },
	"ka.req.pod.host_ipc":           func(x *evalCtx) ([]string, bool) { return podBool(x, "hostIPC") },
	"ka.req.container.host_network": func(x *evalCtx) ([]string, bool) { return podBool(x, "hostNetwork") },
	"ka.req.pod.volumes.hostpath": func(x *evalCtx) ([]string, bool) {
		return each(mapsOf(list(podSpec(x), "volumes")), "hostPath", "path")
	},
	"ka.req.pod.volumes.volume_type": func(x *evalCtx) ([]string, bool) {
		var out []string
		for _, v := range mapsOf(list(podSpec(x), "volumes")) {
			for k := range v {
				if k != "name" {
					out = append(out, k)
				}
			}
		}
		return out, len(out) > 0
	},
	"ka.req.container.image": func(x *evalCtx) ([]string, bool) {
		v, ok := each(containers(x, "containers"), "image")
		return first(v), ok
	},
	"ka.req.container.image.repository": func(x *evalCtx) ([]string, bool) {
		v, ok := each(containers(x, "containers"), "image")
		return repos(first(v)), ok
	},
	"ka.req.container.privileged": func(x *evalCtx) ([]string, bool) {
		v, ok := privileged(containers(x, "containers"))
		return []string{boolStr(contains(v, "true"))}, ok
	},
	"jevt.rawtime": func(x *evalCtx) ([]string, bool) {
		return []string{strconv.FormatInt(x.e.Time.UnixNano(), 10)}, true
	},
	"jevt.time": func(x *evalCtx) ([]string, bool) { return one(x.e.Time.Format("2006-01-02T15:04:05.000000000Z")) },
	"jevt.obj": func(x *evalCtx) ([]string, bool) {
		b, err := json.Marshal(&x.e.Raw)
		return []string{string(b)}, err == nil
	},
}

// containerFields are ka.req.pod.{containers,initContainers,ephemeralContainers}.X.
var containerFields = map[string]func([]map[string]any) ([]string, bool){
	"image":            func(cs []map[string]any) ([]string, bool) { return each(cs, "image") },
	"image.repository": func(cs []map[string]any) ([]string, bool) { v, ok := each(cs, "image"); return repos(v), ok },
	"privileged":       privileged,
	"host_port": func(cs []map[string]any) ([]string, bool) {
		var out []string
		for _, c := range cs {
			v, _ := each(mapsOf(list(c, "ports")), "hostPort")
			out = append(out, v...)
		}
		return out, len(out) > 0
	},
	"allow_privilege_escalation": func(cs []map[string]any) ([]string, bool) { return secCtx(cs, "allowPrivilegeEscalation") },
	"read_only_fs":               func(cs []map[string]any) ([]string, bool) { return secCtx(cs, "readOnlyRootFilesystem") },
	"run_as_user":                func(cs []map[string]any) ([]string, bool) { return secCtx(cs, "runAsUser") },
	"add_capabilities": func(cs []map[string]any) ([]string, bool) {
		var out []string
		for _, c := range cs {
			sc, _ := c["securityContext"].(map[string]any)
			caps, _ := sc["capabilities"].(map[string]any)
			for _, a := range listOf(caps["add"]) {
				out = append(out, fmt.Sprint(a))
			}
		}
		return out, len(out) > 0
	},
}

// knownField reports whether name is a field this translation evaluates.
func knownField(name string) bool { _, err := fieldExtractor(name); return err == nil }

// fieldExtractor resolves a field name (with its [argument], if any).
func fieldExtractor(name string) (extractor, error) {
	if f, ok := simpleFields[name]; ok {
		return f, nil
	}
	base, arg, hasArg := strings.Cut(name, "[")
	arg = strings.TrimSuffix(arg, "]")
	switch {
	case hasArg && (base == "jevt.value" || base == "json.value"):
		return func(x *evalCtx) ([]string, bool) { return x.pointer(arg) }, nil
	case hasArg && base == "ka.uri.param":
		return func(x *evalCtx) ([]string, bool) { return uriParam(x.e.URI, arg) }, nil
	case hasArg && base == "ka.req.volume.hostpath":
		return func(x *evalCtx) ([]string, bool) {
			paths, ok := each(mapsOf(list(podSpec(x), "volumes")), "hostPath", "path")
			hit := false
			for _, p := range paths {
				if m, _ := path.Match(arg, p); m {
					hit = true
				}
			}
			return []string{boolStr(hit)}, ok
		}, nil
	case hasArg && base == "ka.req.binding.subject.has_name":
		return func(x *evalCtx) ([]string, bool) {
			names, ok := each(list(x.e.Request, "subjects"), "name")
			return []string{boolStr(contains(names, arg))}, ok
		}, nil
	}
	for _, kind := range []string{"containers", "initContainers", "ephemeralContainers"} {
		prefix := "ka.req.pod." + kind + "."
		if f, ok := containerFields[strings.TrimPrefix(name, prefix)]; ok && strings.HasPrefix(name, prefix) {
			return func(x *evalCtx) ([]string, bool) { return f(containers(x, kind)) }, nil
		}
	}
	return nil, &UnsupportedError{Construct: "field " + name}
}

func imp(x *evalCtx) ([]string, bool) {
	if x.e.Impersonated == nil {
		return nil, false
	}
	return one(x.e.Impersonated.Username)
}

// pointer evaluates an RFC 6901 JSON pointer over the raw event.
func (x *evalCtx) pointer(ptr string) ([]string, bool) {
	switch ptr {
	case "/stage":
		return one(x.e.Stage)
	case "/verb":
		return one(x.e.Verb)
	}
	if x.raw == nil {
		b, err := json.Marshal(&x.e.Raw)
		if err != nil || json.Unmarshal(b, &x.raw) != nil {
			return nil, false
		}
	}
	var cur any = x.raw
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	if s, ok := cur.(string); ok {
		return []string{s}, true
	}
	return jsonOf(cur)
}

func uriParam(uri, name string) ([]string, bool) {
	_, q, ok := strings.Cut(uri, "?")
	if !ok {
		return nil, false
	}
	var out []string
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k == name {
			out = append(out, v)
		}
	}
	return out, len(out) > 0
}

func podSpec(x *evalCtx) map[string]any {
	spec, _ := x.e.Request["spec"].(map[string]any)
	return spec
}

func podBool(x *evalCtx, key string) ([]string, bool) {
	spec := podSpec(x)
	if spec == nil {
		return nil, false
	}
	b, _ := spec[key].(bool)
	return []string{boolStr(b)}, true
}

func containers(x *evalCtx, kind string) []map[string]any { return mapsOf(list(podSpec(x), kind)) }

func privileged(cs []map[string]any) ([]string, bool) {
	var out []string
	for _, c := range cs {
		sc, _ := c["securityContext"].(map[string]any)
		b, _ := sc["privileged"].(bool)
		out = append(out, boolStr(b))
	}
	return out, len(out) > 0
}

func secCtx(cs []map[string]any, key string) ([]string, bool) {
	var out []string
	for _, c := range cs {
		sc, _ := c["securityContext"].(map[string]any)
		if v, ok := sc[key]; ok {
			out = append(out, scalar(v))
		}
	}
	return out, len(out) > 0
}
