package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

const paramsPolicy = `apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: acme/max-ports}
spec:
  matchResources: {apiGroups: [""], kinds: [Service]}
  paramsRef:
    namespace: shop
    name: port-limit
  validations:
    - expression: size(object.spec.ports) <= int(params.maxPorts)
`

func TestParseParamsRef(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		want    *ParamsRef
		wantErr string
	}{
		{"default action is Deny", paramsPolicy, &ParamsRef{Namespace: "shop", Name: "port-limit", ParameterNotFoundAction: DenyAction}, ""},
		{"Allow", strings.Replace(paramsPolicy, "    name: port-limit", "    name: port-limit\n    parameterNotFoundAction: Allow", 1),
			&ParamsRef{Namespace: "shop", Name: "port-limit", ParameterNotFoundAction: AllowAction}, ""},
		{"bad action", strings.Replace(paramsPolicy, "    name: port-limit", "    name: port-limit\n    parameterNotFoundAction: Ignore", 1),
			nil, `p.yaml:9: policy acme/max-ports: spec.paramsRef.parameterNotFoundAction "Ignore": want Deny or Allow`},
		{"no name", strings.Replace(paramsPolicy, "    name: port-limit\n", "", 1), nil, "p.yaml:7: policy acme/max-ports: spec.paramsRef: needs the ConfigMap's namespace and name"},
		{"bad namespace", strings.Replace(paramsPolicy, "namespace: shop", "namespace: Shop_1", 1), nil, `p.yaml:7: policy acme/max-ports: spec.paramsRef.namespace "Shop_1" is not a namespace name`},
		{"bad name", strings.Replace(paramsPolicy, "name: port-limit", "name: port limit", 1), nil, `p.yaml:8: policy acme/max-ports: spec.paramsRef.name "port limit" is not a ConfigMap name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps, err := Parse("p.yaml", []byte(tt.doc))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ps[0].Doc.Spec.ParamsRef); diff != "" {
				t.Errorf("paramsRef (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParamsRefs(t *testing.T) {
	doc := func(name, ns, cm string) string {
		return strings.NewReplacer("acme/max-ports", name, "namespace: shop", "namespace: "+ns, "name: port-limit", "name: "+cm).Replace(paramsPolicy)
	}
	ps, err := Parse("p.yaml", []byte(doc("a", "shop", "z")+"---\n"+doc("b", "palisade", "limits")+"---\n"+doc("c", "shop", "z")+"---\n"+doc("d", "shop", "a")+"---\n"+userPolicy))
	if err != nil {
		t.Fatal(err)
	}
	want := []ConfigMapRef{{"palisade", "limits"}, {"shop", "a"}, {"shop", "z"}}
	if diff := cmp.Diff(want, ParamsRefs(ps)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
}

func TestParamsOfAndMatches(t *testing.T) {
	ps, err := Parse("p.yaml", []byte(paramsPolicy))
	if err != nil {
		t.Fatal(err)
	}
	p := ps[0]
	params := ParamsOf(&corev1.ConfigMap{Data: map[string]string{"maxPorts": "1"}})
	svc := func(ports int) *Input {
		var list []any
		for range ports {
			list = append(list, map[string]any{"port": int64(80)})
		}
		return &Input{
			Object:  map[string]any{"apiVersion": "v1", "kind": "Service", "spec": map[string]any{"ports": list}},
			Request: Request{Kind: GroupVersionKind{Version: "v1", Kind: "Service"}, Operation: "CREATE"},
			Params:  params,
		}
	}
	for ports, wantViolation := range map[int]bool{1: false, 2: true} {
		res, err := p.Evaluate(t.Context(), svc(ports))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(res.Violations) > 0; got != wantViolation {
			t.Errorf("%d ports with maxPorts=1: violation %v, want %v", ports, got, wantViolation)
		}
	}
	if !p.Matches(svc(1)) {
		t.Error("a Service does not match a Service policy")
	}
	pod := &Input{Object: map[string]any{"apiVersion": "v1", "kind": "Pod"}, Request: Request{Kind: GroupVersionKind{Version: "v1", Kind: "Pod"}}}
	if p.Matches(pod) || p.Matches(&Input{}) {
		t.Error("a Pod (or no object) matches a Service policy")
	}
	w := NewParamsWatcher(nil, 0, nil)
	defer w.Close()
	if _, _, err := w.Params(ConfigMapRef{"shop", "port-limit"}); err == nil || !strings.Contains(err.Error(), "not watched") {
		t.Errorf("an unwatched ref: %v", err)
	}
}

func FuzzParseParamsRef(f *testing.F) {
	f.Add("shop", "port-limit", "Deny")
	f.Add("", "x", "Allow")
	f.Add("a.b", "-x", "")
	f.Add("ns\n  extra: 1", "n: [", "{}")
	f.Fuzz(func(t *testing.T, ns, name, action string) {
		doc := strings.NewReplacer("namespace: shop", "namespace: "+ns, "name: port-limit", "name: "+name+"\n    parameterNotFoundAction: "+action).Replace(paramsPolicy)
		ps, err := Parse("fuzz.yaml", []byte(doc))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, p := range ps {
			r := p.Doc.Spec.ParamsRef
			if r == nil {
				continue
			}
			if r.Namespace == "" || r.Name == "" || (r.ParameterNotFoundAction != DenyAction && r.ParameterNotFoundAction != AllowAction) {
				t.Fatalf("accepted paramsRef %+v", r)
			}
		}
	})
}
