package render

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// maxDependencyDepth bounds addDependencies: charts that depend on
// each other (file://, or through the scan's index) would otherwise load
// without end.
const maxDependencyDepth = 8

// dependencies is what addDependencies works with and records for one
// chart rendered.
type dependencies struct {
	// index holds the scan's charts (nil: none), read for dependencies
	// charts/ lacks that come from a repository.
	index chartIndex
	// local maps the charts/ path of each dependency read from a
	// directory, as a subchart of the chart rendered, to that directory,
	// so that findings name its templates where they are.
	local map[string]string
	// fromIndex are the dependencies read from the index.
	fromIndex []indexUse
}

// indexUse is a dependency read from the scan's index.
type indexUse struct {
	sub  string // its charts/ path in the chart rendered
	req  *chartv2.Dependency
	from string // the index's chart: "bitnami/common (2.31.4)"
}

// usedFromIndex names the dependencies of d.fromIndex that ch, after
// ProcessDependencies (which drops disabled ones), renders: "common 2.x.x
// from bitnami/common (2.31.4)", a subchart's prefixed with its path as
// missingDependencies names them ("postgresql/common …").
func (d *dependencies) usedFromIndex(ch *chartv2.Chart) []string {
	var out []string
	for _, u := range d.fromIndex {
		if !hasSubchart(ch, u.sub) {
			continue
		}
		name := strings.ReplaceAll(strings.TrimSuffix(u.sub, cmp.Or(u.req.Alias, u.req.Name)), "charts/", "") + u.req.Name
		out = append(out, strings.TrimSpace(name+" "+u.req.Version)+" from "+u.from)
	}
	return out
}

// hasSubchart reports whether ch holds the subchart at sub
// ("charts/a/charts/b"), by the names it renders them under.
func hasSubchart(ch *chartv2.Chart, sub string) bool {
	for name := range strings.SplitSeq(strings.TrimPrefix(sub, "charts/"), "/charts/") {
		i := slices.IndexFunc(ch.Dependencies(), func(c *chartv2.Chart) bool { return c.Name() == name })
		if i < 0 {
			return false
		}
		ch = ch.Dependencies()[i]
	}
	return true
}

// addDependencies adds to ch, a chart read from the directory dir, the
// dependencies Chart.yaml declares that charts/ does not hold, as `helm
// dependency build` would copy them there: one from a directory
// (repository file://PATH, relative to dir) is read there, one from a
// repository is read from the scan's chart of that name whose version
// matches (d.index). So a chart repository that depends on its own charts
// renders without a build step. at is ch's path as a subchart of the
// chart rendered ("" for the top). A dependency that does not load stays
// missing, and its error is returned.
func addDependencies(ch *chartv2.Chart, dir, at string, d *dependencies) []error {
	have := map[string]bool{}
	for _, dep := range ch.Dependencies() {
		have[dep.Name()] = true
	}
	added := map[string]string{} // name → directory of the charts added here
	var errs []error
	for _, req := range ch.Metadata.Dependencies {
		if req == nil {
			continue
		}
		// Helm renders an aliased dependency under its alias.
		sub := strings.TrimPrefix(at+"/charts/"+cmp.Or(req.Alias, req.Name), "/")
		if !have[req.Name] {
			src, ok := strings.CutPrefix(req.Repository, "file://")
			if ok && !filepath.IsAbs(src) {
				src = filepath.Join(dir, src)
			}
			var from string // the index's chart, when read from there
			if !ok {
				ic, found := d.index.find(req, dir)
				if !found {
					continue
				}
				src, from = ic.dir, ic.String()
			}
			if strings.Count(sub, "charts/") > maxDependencyDepth {
				errs = append(errs, fmt.Errorf("dependency %s (%s): more than %d levels of dependencies read from directories", req.Name, req.Repository, maxDependencyDepth))
				continue
			}
			dep, err := loader.Load(src)
			if err != nil {
				errs = append(errs, fmt.Errorf("dependency %s (%s): %w", req.Name, req.Repository, err))
				continue
			}
			if dep.Name() != req.Name {
				errs = append(errs, fmt.Errorf("dependency %s (%s): the chart there is %s", req.Name, req.Repository, dep.Name()))
				continue
			}
			if fi, err := os.Stat(src); err == nil && fi.IsDir() {
				added[req.Name] = src
				errs = append(errs, addDependencies(dep, src, sub, d)...)
			}
			ch.AddDependency(dep)
			have[req.Name] = true
			if from != "" {
				d.fromIndex = append(d.fromIndex, indexUse{sub: sub, req: req, from: from})
			}
		}
		if dir, ok := added[req.Name]; ok {
			d.local[sub] = dir
		}
	}
	return errs
}

// templateFile is the file of a rendered template, rel inside the chart
// at dir ("templates/x.yaml", "charts/sub/templates/y.yaml"): the
// directory of a file:// dependency (local) when rel is in one.
func templateFile(dir, rel string, local map[string]string) string {
	best := ""
	for sub := range local {
		if strings.HasPrefix(rel, sub+"/") && len(sub) > len(best) {
			best = sub
		}
	}
	if best == "" {
		return filepath.Join(dir, rel)
	}
	return filepath.Join(local[best], strings.TrimPrefix(rel, best+"/"))
}

// missingDependencies names the dependencies that ch (after
// ProcessDependencies, which drops the disabled ones) and its subcharts
// declare and charts/ does not provide: "name version", a subchart's
// prefixed with its path ("parent/name version"), and the versions of the
// scanned charts of that name (index) when none matched.
func missingDependencies(ch *chartv2.Chart, prefix string, index chartIndex) []string {
	have := map[string]bool{}
	for _, d := range ch.Dependencies() {
		have[d.Name()] = true
	}
	var out []string
	for _, req := range ch.Metadata.Dependencies {
		if req == nil || !req.Enabled || have[req.Name] {
			continue
		}
		m := strings.TrimSpace(prefix + req.Name + " " + req.Version)
		if scanned := index[req.Name]; len(scanned) > 0 {
			names := make([]string, len(scanned))
			for i, ic := range scanned {
				names[i] = ic.dir + " is " + ic.version.Original()
			}
			m += " (" + strings.Join(names, ", ") + ")"
		}
		out = append(out, m)
	}
	for _, d := range ch.Dependencies() {
		out = append(out, missingDependencies(d, prefix+d.Name()+"/", index)...)
	}
	return out
}
