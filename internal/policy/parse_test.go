package policy

import (
	"strings"
	"testing"
)

const userPolicy = `apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata:
  name: acme/no-latest
spec:
  title: Images pinned
  severity: high
  mode: enforce
  matchResources:
    kinds: [Pod, Deployment]
  validations:
    - scope: container
      expression: "!container.image.endsWith(':latest')"
      message: uses a :latest image
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		// want are substrings of the error, each naming file and line.
		want []string
	}{
		{"unknown field", strings.Replace(userPolicy, "  severity: high", "  severty: high", 1), []string{"p.yaml:7: ", `field severty not found`}},
		{"bad apiVersion", strings.Replace(userPolicy, "v1alpha1", "v2", 1), []string{"p.yaml:1: policy acme/no-latest: apiVersion"}},
		{"bad name", strings.Replace(userPolicy, "acme/no-latest", "Acme Latest", 1), []string{"p.yaml:4: ", "metadata.name"}},
		{"bad mode", strings.Replace(userPolicy, "mode: enforce", "mode: block", 1), []string{"p.yaml:8: ", `unknown mode "block"`}},
		{"bad severity", strings.Replace(userPolicy, "severity: high", "severity: dire", 1), []string{"p.yaml:7: ", "spec.severity"}},
		{"syntax error in CEL", strings.Replace(userPolicy, `"!container.image.endsWith(':latest')"`, `"container.image.endsWith("`, 1), []string{"p.yaml:13: policy acme/no-latest: validations[0].expression: compile CEL"}},
		{"undeclared variable", strings.Replace(userPolicy, "!container.image", "!containr.image", 1), []string{"p.yaml:13: ", "undeclared reference to 'containr'"}},
		{"container outside container scope", strings.Replace(userPolicy, "    - scope: container\n", "    - scope: object\n", 1), []string{"p.yaml:13: ", "undeclared reference to 'container'"}},
		{"not a bool", strings.Replace(userPolicy, `"!container.image.endsWith(':latest')"`, `"container.image + 'x'"`, 1), []string{"p.yaml:13: ", "want bool"}},
		{"bad scope", strings.Replace(userPolicy, "scope: container", "scope: pod", 1), []string{"p.yaml:12: ", `scope "pod"`}},
		{"no validations", strings.Split(userPolicy, "  validations:")[0], []string{"p.yaml:6: ", "at least one validation"}},
		{"unknown variable", strings.Replace(userPolicy, "  validations:", "  variables:\n    - {name: img, expression: object.kind}\n  validations:", 1) + "    - expression: variables.imgs == 'x'\n", []string{"p.yaml:17: ", "variables.imgs"}},
		{"duplicate", userPolicy + "---\n" + userPolicy, []string{"p.yaml:16: policy acme/no-latest: defined twice"}},
		{"yaml syntax", "apiVersion: [", []string{"p.yaml:1: "}},
		{"bad operator", strings.Replace(userPolicy, "    kinds: [Pod, Deployment]", "    namespaceSelector: {matchExpressions: [{key: a, operator: Has}]}", 1), []string{"p.yaml:10: ", `operator "Has"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps, err := Parse("p.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("parsed %d policies, want an error", len(ps))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	doc := `apiVersion: palisade.dev/v1alpha1
kind: Policy
metadata: {name: minimal}
spec:
  validations:
    - expression: "true"
`
	ps, err := Parse("m.yaml", []byte("---\n"+doc+"---\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		t.Fatalf("got %d policies", len(ps))
	}
	p := ps[0]
	if p.Mode != Audit || p.OnUpdate != Always || p.Severity != "medium" || p.Line != 2 {
		t.Errorf("defaults: mode %s, onUpdate %s, severity %s, line %d", p.Mode, p.OnUpdate, p.Severity, p.Line)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(userPolicy))
	f.Add([]byte(userPolicy + "---\n" + strings.Replace(userPolicy, "acme/no-latest", "b", 1)))
	f.Add([]byte("apiVersion: palisade.dev/v1alpha1\nkind: Policy\nmetadata: {name: a}\nspec: {validations: [{expression: 'object.x > 1', messageExpression: 'x'}]}\n"))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("- - - -"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, p := range ps {
			if p.ID == "" || len(p.validations) == 0 {
				t.Fatalf("policy without ID or validations: %+v", p)
			}
			// A policy that loads must evaluate without panicking.
			_, _ = p.Evaluate(t.Context(), &Input{Object: map[string]any{"kind": "Pod", "spec": map[string]any{"containers": []any{map[string]any{"name": "a"}}}}})
		}
	})
}
