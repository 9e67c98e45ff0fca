package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

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
	// APIVersions are added to .Capabilities.APIVersions, the built-in
	// ones (Helm's --api-versions): charts render what they gate on a
	// CRD being served ("monitoring.coreos.com/v1",
	// "monitoring.coreos.com/v1/ServiceMonitor").
	APIVersions []string
	// SkipTests leaves out the chart's tests (kube.IsHelmTest), as
	// `helm template --skip-tests` does: they run only on `helm test`.
	SkipTests bool
}

// Helm renders the chart at path (a directory or a packaged .tgz) as
// `helm template` would, without a cluster: lookup returns nothing. Each
// object's file is the template that produced it, inside the chart. A
// chart whose default values do not render is rendered with its
// chart-testing values (ciValues), when o sets none.
func Helm(ctx context.Context, path string, o HelmOptions, lim kube.Limits) ([]*kube.Object, error) {
	r := renderHelm(ctx, path, o, lim, newChartScan(nil))
	return r.objs, r.err
}

// chartScan is what the charts rendered in one scan share.
type chartScan struct {
	// index holds the scan's charts, read for dependencies charts/ lacks.
	index chartIndex
	// funcs replace the template functions that generate keys (keyCache).
	funcs template.FuncMap
}

func newChartScan(index chartIndex) *chartScan {
	return &chartScan{index: index, funcs: newKeyCache().funcs()}
}

// renderedChart is what rendering one chart of a scan gave.
type renderedChart struct {
	objs []*kube.Object
	// fromIndex are the dependencies read from the scan's charts and
	// rendered (dependencies.usedFromIndex).
	fromIndex []string
	// ciValues is the chart-testing values file the chart was rendered
	// with, when its defaults failed (defaultsErr); "" otherwise.
	ciValues    string
	defaultsErr error
	err         error
}

// renderHelm is Helm within a scan.
func renderHelm(ctx context.Context, path string, o HelmOptions, lim kube.Limits, scan *chartScan) renderedChart {
	r := renderWith(ctx, path, o, lim, scan)
	var failed *templateError
	if !errors.As(r.err, &failed) || len(o.ValuesFiles) > 0 || len(o.Set) > 0 {
		return r
	}
	for _, f := range ciValues(path) {
		withCI := o
		withCI.ValuesFiles = []string{f}
		if c := renderWith(ctx, path, withCI, lim, scan); !errors.As(c.err, new(*templateError)) {
			c.ciValues, c.defaultsErr = f, failed.err
			return c
		}
	}
	return r
}

// renderWith renders the chart at path with o's values.
func renderWith(ctx context.Context, path string, o HelmOptions, lim kube.Limits, scan *chartScan) renderedChart {
	// Loaded anew for each values: resolving dependencies removes the
	// ones the values disable from the chart.
	ch, err := loader.Load(path)
	if err != nil {
		return renderedChart{err: fmt.Errorf("load Helm chart: %w", err)}
	}
	vals, err := o.values()
	if err != nil {
		return renderedChart{err: err}
	}
	var errs []error
	deps := &dependencies{index: scan.index, local: map[string]string{}}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		errs = append(errs, addDependencies(ch, path, "", deps)...)
	}
	objs, err := renderChart(ctx, ch, path, o, vals, lim, deps, scan.funcs)
	return renderedChart{objs: objs, fromIndex: deps.usedFromIndex(ch), err: joinErrs(append(errs, kube.SplitErrors(err)...))}
}

// renderChart renders ch, read from path, with its dependencies added.
func renderChart(ctx context.Context, ch *chartv2.Chart, path string, o HelmOptions, vals map[string]any, lim kube.Limits, deps *dependencies, funcs template.FuncMap) ([]*kube.Object, error) {
	var errs []error
	if err := chartv2util.ProcessDependencies(ch, vals); err != nil {
		return nil, fmt.Errorf("resolve chart dependencies: %w", err)
	}
	// Helm's renderer drops a dependency that charts/ does not hold
	// without a word, and a scan of a chart checked out from git, before
	// `helm dependency build`, would pass without its subcharts'
	// workloads. `helm template` refuses such a chart; a scan renders the
	// rest and says what it could not.
	if missing := missingDependencies(ch, "", deps.index); len(missing) > 0 {
		errs = append(errs, fmt.Errorf("chart dependencies missing from charts/, their objects not scanned (run 'helm dependency build %s'): %s", path, strings.Join(missing, ", ")))
	}
	caps, err := o.capabilities()
	if err != nil {
		return nil, err
	}
	rel := chartcommon.ReleaseOptions{Name: or(o.ReleaseName, "release"), Namespace: or(o.Namespace, "default"), Revision: 1, IsInstall: true}
	rv, err := chartutil.ToRenderValues(ch, vals, rel, caps)
	if err != nil {
		return nil, fmt.Errorf("chart values: %w", err)
	}
	out, err := engine.Engine{CustomTemplateFuncs: funcs}.Render(ch, rv)
	if err != nil {
		return nil, joinErrs(append(errs, &templateError{err}))
	}
	var objs []*kube.Object
	sources := templateSources(ch)
	for _, name := range slices.Sorted(maps.Keys(out)) {
		if ctx.Err() != nil {
			return objs, ctx.Err()
		}
		base := filepath.Base(name)
		if strings.HasPrefix(base, "_") || strings.EqualFold(base, "NOTES.txt") || strings.TrimSpace(out[name]) == "" {
			continue
		}
		// name is "<chart>/templates/…": show it under the path given, or
		// where the template of a dependency read from a directory is.
		file := templateFile(path, strings.TrimPrefix(name, ch.Name()+"/"), deps.local)
		decoded, err := kube.Decode(ctx, file, []byte(out[name]), lim)
		placeInTemplate(decoded, sources[name], file)
		if o.SkipTests {
			decoded = slices.DeleteFunc(decoded, kube.IsHelmTest)
		}
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

// Validate reads the values files and --set values, and parses the
// Kubernetes version: a mistake there is the command line's, found before
// any chart is rendered rather than once per chart.
func (o HelmOptions) Validate() error {
	if _, err := o.values(); err != nil {
		return err
	}
	_, err := o.capabilities()
	return err
}

// capabilities are Helm's defaults with o's Kubernetes version and
// extra API versions.
func (o HelmOptions) capabilities() (*chartcommon.Capabilities, error) {
	c := *chartcommon.DefaultCapabilities
	if o.KubeVersion != "" {
		kv, err := chartcommon.ParseKubeVersion(o.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kube version %q: %w", o.KubeVersion, err)
		}
		c.KubeVersion = *kv
	}
	if len(o.APIVersions) > 0 {
		c.APIVersions = append(slices.Clip(c.APIVersions), o.APIVersions...)
	}
	return &c, nil
}

// values merges the values files in order, then the --set values.
func (o HelmOptions) values() (map[string]any, error) {
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
	return vals, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
