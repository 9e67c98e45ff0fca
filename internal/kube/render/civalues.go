package render

import (
	"path/filepath"
	"slices"
)

// templateError is Helm's engine failing to render a chart's templates: a
// `required` or `fail` in a template, a nil value dereferenced. Unlike a
// chart that does not load, values may fix it.
type templateError struct{ err error }

func (e *templateError) Error() string { return "render Helm chart: " + e.err.Error() }
func (e *templateError) Unwrap() error { return e.err }

// ciValues returns the chart-testing values files of the chart directory
// at path, ci/*-values.yaml (and .yml), sorted: the values its authors
// test it with (`ct lint` and `ct install` render the chart once with
// each). A chart that requires values its defaults leave unset (an
// address, a token) renders nothing with them; with these, it renders
// what its authors test. None for a packaged chart.
func ciValues(path string) []string {
	var out []string
	for _, pattern := range []string{"*-values.yaml", "*-values.yml"} {
		m, _ := filepath.Glob(filepath.Join(path, "ci", pattern)) // the pattern is well-formed
		out = append(out, m...)
	}
	slices.Sort(out)
	return out
}
