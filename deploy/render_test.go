package deploy

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"sigs.k8s.io/yaml"
)

const chartDir = "helm/palisade"

// release is what Helm passes as .Release.
type release struct{ Name, Namespace string }

// renderChart renders every template of the chart with the chart's
// values.yaml overlaid by overrides (dotted keys), the way `helm template`
// does for the subset of the template language the chart uses: actions,
// if, range, and the Sprig functions quote and nindent. A template that
// uses anything else fails here, so the chart cannot drift from what this
// test checks.
func renderChart(t *testing.T, rel release, overrides map[string]any) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{}
	if err := yaml.Unmarshal(raw, &values); err != nil {
		t.Fatalf("values.yaml: %v", err)
	}
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		setDotted(values, k, overrides[k])
	}
	funcs := template.FuncMap{
		"quote": func(v any) string { return strconv.Quote(fmt.Sprint(v)) },
		"nindent": func(n int, s string) string {
			pad := strings.Repeat(" ", n)
			return "\n" + pad + strings.ReplaceAll(s, "\n", "\n"+pad)
		},
	}
	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in %s: %v", chartDir, err)
	}
	out := map[string]string{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := template.New(filepath.Base(f)).Funcs(funcs).Option("missingkey=error").Parse(string(src))
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		var b bytes.Buffer
		data := map[string]any{"Values": values, "Release": rel, "Chart": map[string]any{"Name": "palisade"}}
		if err := tpl.Execute(&b, data); err != nil {
			t.Fatalf("render %s: %v", f, err)
		}
		out[filepath.Base(f)] = b.String()
	}
	return out
}

func setDotted(m map[string]any, key string, v any) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// joined is the rendered chart as one multi-document YAML stream, in file
// name order, the way `helm template` prints it.
func joined(files map[string]string) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(files)) {
		body := strings.TrimSpace(files[name])
		if body == "" {
			continue
		}
		fmt.Fprintf(&b, "---\n# Source: palisade/templates/%s\n%s\n", name, body)
	}
	return b.String()
}
