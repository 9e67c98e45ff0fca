package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/palisade-sec/palisade/internal/kube"
)

// Input is what one evaluation judges: an admission request and the
// objects it carries, as decoded JSON (maps, slices, strings, bools, int64
// and float64; see DecodeObject).
type Input struct {
	Object    map[string]any // nil on DELETE
	OldObject map[string]any // set on UPDATE
	Request   Request
	// NamespaceObject is the Namespace of a namespaced object; nil when
	// unknown or for cluster-scoped objects.
	NamespaceObject map[string]any
	// Params, when non-nil, replaces the policy's own params.
	Params any
	// JSONSize, when positive, is the length of the JSON Object and
	// OldObject were decoded from (the longer one). It bounds the size of
	// every value inside them, so that evaluation need not walk them to
	// find which expressions may run without cost tracking (see cost.go).
	JSONSize int

	// derived values, computed once for all the policies judging this
	// input: an Input is not safe for concurrent use.
	derived [2]*derived // [new, old]
}

// derived is what every policy's activation needs from one object.
type derived struct {
	object, oldObject map[string]any
	req               *Request
	request           map[string]any // req as CEL sees it, built on first use
	podSpec, podMeta  map[string]any
	containers        []any
	// act and cacts are reused by one policy after another: building them
	// for each was a good part of what evaluation allocated.
	act   vars
	cacts []containerVars
	// size bounds the size of every value above and of in.NamespaceObject
	// (see sizeBound): it decides which expressions may skip cost tracking.
	size int
}

func (in *Input) derive(old bool) *derived {
	i := 0
	if old {
		i = 1
	}
	if d := in.derived[i]; d != nil {
		return d
	}
	d := &derived{object: in.Object, oldObject: in.OldObject, req: &in.Request}
	if old {
		d.object, d.oldObject = in.OldObject, nil
	}
	d.podSpec, d.podMeta = podTemplate(d.object)
	d.containers = containersOf(d.podSpec)
	if d.containers == nil {
		d.containers = []any{}
	}
	// containers holds copies of parts of object, one entry longer.
	objects := in.JSONSize
	if objects <= 0 {
		objects = max(sizeBound(d.object), sizeBound(d.oldObject), len(d.containers))
	}
	d.size = max(objects, in.Request.sizeBound(), sizeBound(in.NamespaceObject))
	if d.size < math.MaxInt { // MaxInt: unbounded, so every evaluation is tracked
		d.size++
	}
	in.derived[i] = d
	return d
}

// requestValue returns request, building it on first use: few policies
// read it.
func (d *derived) requestValue() map[string]any {
	if d.request == nil {
		d.request = d.req.value()
	}
	return d.request
}

// Request is the admission request, as CEL sees it under request.*.
type Request struct {
	UID         string
	Kind        GroupVersionKind
	Resource    GroupVersionResource
	SubResource string
	Name        string
	Namespace   string
	Operation   string // CREATE, UPDATE, DELETE, CONNECT
	UserInfo    UserInfo
	DryRun      bool
}

// GroupVersionKind names a kind.
type GroupVersionKind struct{ Group, Version, Kind string }

// GroupVersionResource names a resource.
type GroupVersionResource struct{ Group, Version, Resource string }

// UserInfo is who made the request.
type UserInfo struct {
	Username string
	UID      string
	Groups   []string
	Extra    map[string][]string
}

// DecodeObject decodes a JSON object into the form CEL evaluates: integers
// become int64 (not float64), so that runAsUser == 0 means what it says.
func DecodeObject(raw []byte) (map[string]any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := utiljson.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decode object JSON: %w", err)
	}
	return m, nil
}

// sizeBound is sizeBound(r.value()), without building the value.
func (r *Request) sizeBound() int {
	n := max(9, len(r.UID), len(r.Kind.Group), len(r.Kind.Version), len(r.Kind.Kind),
		len(r.Resource.Group), len(r.Resource.Version), len(r.Resource.Resource), len(r.SubResource),
		len(r.Name), len(r.Namespace), len(r.Operation), len("CREATE"), len(r.UserInfo.Username), len(r.UserInfo.UID),
		len(r.UserInfo.Groups), len(r.UserInfo.Extra))
	for _, g := range r.UserInfo.Groups {
		n = max(n, len(g))
	}
	for k, vs := range r.UserInfo.Extra {
		n = max(n, len(k), len(vs))
		for _, v := range vs {
			n = max(n, len(v))
		}
	}
	return n
}

func (r *Request) value() map[string]any {
	groups := make([]any, len(r.UserInfo.Groups))
	for i, g := range r.UserInfo.Groups {
		groups[i] = g
	}
	extra := make(map[string]any, len(r.UserInfo.Extra))
	for k, vs := range r.UserInfo.Extra {
		l := make([]any, len(vs))
		for i, v := range vs {
			l[i] = v
		}
		extra[k] = l
	}
	op := r.Operation
	if op == "" {
		op = "CREATE"
	}
	return map[string]any{
		"uid":         r.UID,
		"kind":        map[string]any{"group": r.Kind.Group, "version": r.Kind.Version, "kind": r.Kind.Kind},
		"resource":    map[string]any{"group": r.Resource.Group, "version": r.Resource.Version, "resource": r.Resource.Resource},
		"subResource": r.SubResource,
		"name":        r.Name,
		"namespace":   r.Namespace,
		"operation":   op,
		"userInfo":    map[string]any{"username": r.UserInfo.Username, "uid": r.UserInfo.UID, "groups": groups, "extra": extra},
		"dryRun":      r.DryRun,
	}
}

// podTemplate returns the pod spec and pod metadata an object carries,
// wherever its kind keeps them: Pod, PodTemplate, CronJob, and any kind
// with spec.template.spec.containers (Deployment, Job, … and custom
// resources shaped like them, such as Argo Rollouts).
func podTemplate(obj map[string]any) (spec, meta map[string]any) {
	if obj == nil {
		return nil, nil
	}
	var paths [][]string
	switch str(obj, "kind") {
	case "Pod":
		paths = [][]string{{}}
	case "PodTemplate":
		paths = [][]string{{"template"}}
	case "CronJob":
		paths = [][]string{{"spec", "jobTemplate", "spec", "template"}}
	default:
		paths = [][]string{{"spec", "template"}}
	}
	for _, p := range paths {
		s, _ := field(obj, append(p, "spec")...).(map[string]any)
		if s == nil {
			continue
		}
		if _, ok := s["containers"]; !ok {
			continue
		}
		m, _ := field(obj, append(p, "metadata")...).(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		return s, m
	}
	return nil, nil
}

// containerKinds are the pod spec's container lists and the kind each
// container is given.
var containerKinds = [...]struct{ list, kind string }{
	{"initContainers", "initContainer"},
	{"containers", "container"},
	{"ephemeralContainers", "ephemeralContainer"},
}

// containersOf lists every container of a pod spec, each a copy of the
// container with kind (container, initContainer, ephemeralContainer) added.
func containersOf(spec map[string]any) []any {
	var out []any
	for _, ck := range containerKinds {
		l, _ := spec[ck.list].([]any)
		for _, c := range l {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			cp := make(map[string]any, len(m)+1)
			for k, v := range m {
				cp[k] = v
			}
			cp["kind"] = ck.kind
			out = append(out, cp)
		}
	}
	return out
}

// ObjectValue returns a decoded manifest in the form admission sees it: the
// object's JSON, decoded by DecodeObject. Going through JSON keeps offline
// evaluation (`palisade policy test`, posture) identical to the webhook's.
func ObjectValue(o *kube.Object) (map[string]any, error) {
	if o == nil || o.Typed == nil {
		return nil, errors.New("object has no content")
	}
	raw, err := json.Marshal(o.Typed)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", o.Ref, err)
	}
	m, err := DecodeObject(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Ref, err)
	}
	if str(m, "apiVersion") == "" && o.Ref.APIVersion != "" {
		m["apiVersion"] = o.Ref.APIVersion
	}
	if str(m, "kind") == "" && o.Ref.Kind != "" {
		m["kind"] = o.Ref.Kind
	}
	return m, nil
}
