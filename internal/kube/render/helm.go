package render

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	chartcommon "helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartv2util "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/strvals"

	"github.com/palisade-sec/palisade/internal/kube"
)

// HelmOptions are what `helm template` takes.
type HelmOptions struct {
	ReleaseName string // default "release"
	// Namespace is the release namespace; empty renders into "default" and
	// marks the objects that land there Source.NamespaceAssumed.
	Namespace   string
	ValuesFiles []string // -f, merged in order
	Set         []string // --set key=value[,key=value]
	// KubeVersion is .Capabilities.KubeVersion ("v1.32.0"); empty is
	// Helm's default.
	KubeVersion string
}

// Helm renders the chart at path (a directory or a packaged .tgz) as
// `helm template` would, without a cluster: lookup returns nothing. Each
// object's file is the template that produced it, inside the chart.
func Helm(ctx context.Context, path string, o HelmOptions, lim kube.Limits) ([]*kube.Object, error) {
	ch, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("load Helm chart: %w", err)
	}
	vals := map[string]any{}
	for _, f := range o.ValuesFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read values file: %w", err)
		}
		v, err := loader.LoadValues(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("values file %s: %w", f, err)
		}
		vals = chartutil.MergeTables(v, vals)
	}
	for _, s := range o.Set {
		if err := strvals.ParseInto(s, vals); err != nil {
			return nil, fmt.Errorf("--set %q: %w", s, err)
		}
	}
	var errs []error
	local := map[string]string{} // the charts/ path of a file:// dependency → its directory
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		errs = append(errs, addLocalDependencies(ch, path, "", local)...)
	}
	if err := chartv2util.ProcessDependencies(ch, vals); err != nil {
		return nil, fmt.Errorf("resolve chart dependencies: %w", err)
	}
	// Helm drops a dependency that charts/ does not hold (or holds at a
	// version out of range) without a word, and a scan of a chart checked
	// out from git, before `helm dependency build`, would pass without
	// its subcharts' workloads. `helm template` refuses such a chart; a
	// scan renders the rest and says what it could not.
	if missing := missingDependencies(ch, ""); len(missing) > 0 {
		errs = append(errs, fmt.Errorf("chart dependencies missing from charts/, their objects not scanned (run 'helm dependency build %s'): %s", path, strings.Join(missing, ", ")))
	}
	caps := chartcommon.DefaultCapabilities
	if o.KubeVersion != "" {
		kv, err := chartcommon.ParseKubeVersion(o.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kube version %q: %w", o.KubeVersion, err)
		}
		c := *caps
		c.KubeVersion = *kv
		caps = &c
	}
	rel := chartcommon.ReleaseOptions{Name: or(o.ReleaseName, "release"), Namespace: or(o.Namespace, "default"), Revision: 1, IsInstall: true}
	rv, err := chartutil.ToRenderValues(ch, vals, rel, caps)
	if err != nil {
		return nil, fmt.Errorf("chart values: %w", err)
	}
	out, err := engine.Render(ch, rv)
	if err != nil {
		return nil, joinErrs(append(errs, fmt.Errorf("render Helm chart: %w", err)))
	}
	var objs []*kube.Object
	for _, name := range slices.Sorted(maps.Keys(out)) {
		if ctx.Err() != nil {
			return objs, ctx.Err()
		}
		base := filepath.Base(name)
		if strings.HasPrefix(base, "_") || strings.EqualFold(base, "NOTES.txt") || strings.TrimSpace(out[name]) == "" {
			continue
		}
		// name is "<chart>/templates/…": show it under the path given, or
		// where a file:// dependency's template is.
		file := templateFile(path, strings.TrimPrefix(name, ch.Name()+"/"), local)
		decoded, err := kube.Decode(ctx, file, []byte(out[name]), lim)
		for _, obj := range decoded {
			defaultNamespace(obj, rel.Namespace)
			// Templates also write the release namespace themselves
			// ({{ .Release.Namespace }}), so every object in it is
			// marked, not only those defaulted here.
			obj.Source.NamespaceAssumed = o.Namespace == "" && obj.Ref.Namespace == rel.Namespace
		}
		objs = append(objs, decoded...)
		errs = append(errs, kube.SplitErrors(err)...) // each names its template and line
	}
	return objs, joinErrs(errs)
}

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

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
