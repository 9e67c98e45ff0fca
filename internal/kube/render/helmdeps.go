package render

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// maxLocalDependencyDepth bounds addLocalDependencies: charts that depend
// on each other through file:// would otherwise load without end.
const maxLocalDependencyDepth = 8

// addLocalDependencies adds to ch, a chart read from the directory dir,
// the dependencies Chart.yaml takes from a directory (repository
// file://PATH, relative to dir) that charts/ does not hold, as `helm
// dependency build` would copy them there: a chart repository that
// depends on its own charts renders without a build step. Each is
// recorded in local, its path as a subchart of the chart rendered (under
// at, ch's own: "" for the top) → its directory, so that findings name
// its templates where they are. A dependency that does not load stays
// missing, and its error is returned.
func addLocalDependencies(ch *chartv2.Chart, dir, at string, local map[string]string) []error {
	have := map[string]bool{}
	for _, d := range ch.Dependencies() {
		have[d.Name()] = true
	}
	added := map[string]string{} // name → directory of the charts added here
	var errs []error
	for _, req := range ch.Metadata.Dependencies {
		if req == nil {
			continue
		}
		src, ok := strings.CutPrefix(req.Repository, "file://")
		if !ok {
			continue
		}
		if !filepath.IsAbs(src) {
			src = filepath.Join(dir, src)
		}
		// Helm renders an aliased dependency under its alias.
		sub := strings.TrimPrefix(at+"/charts/"+cmp.Or(req.Alias, req.Name), "/")
		if !have[req.Name] {
			if strings.Count(sub, "charts/") > maxLocalDependencyDepth {
				errs = append(errs, fmt.Errorf("dependency %s (%s): more than %d levels of file:// dependencies", req.Name, req.Repository, maxLocalDependencyDepth))
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
				errs = append(errs, addLocalDependencies(dep, src, sub, local)...)
			}
			ch.AddDependency(dep)
			have[req.Name] = true
		}
		if d, ok := added[req.Name]; ok {
			local[sub] = d
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
// prefixed with its path ("parent/name version").
func missingDependencies(ch *chartv2.Chart, prefix string) []string {
	have := map[string]bool{}
	for _, d := range ch.Dependencies() {
		have[d.Name()] = true
	}
	var out []string
	for _, req := range ch.Metadata.Dependencies {
		if req != nil && req.Enabled && !have[req.Name] {
			out = append(out, strings.TrimSpace(prefix+req.Name+" "+req.Version))
		}
	}
	for _, d := range ch.Dependencies() {
		out = append(out, missingDependencies(d, prefix+d.Name()+"/")...)
	}
	return out
}
