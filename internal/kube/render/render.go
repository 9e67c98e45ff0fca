// Package render turns Helm charts and kustomize directories into objects
// with the SDKs of the tools themselves (Helm's engine, kustomize's
// krusty), so that posture checks judge what would be applied, not the
// templates. It is kept apart from package kube so that the admission
// webhook, which only decodes objects, does not link Helm and kustomize.
package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/parallel"
)

// Kind is what a path holds.
type Kind int

// The kinds of input.
const (
	Manifests     Kind = iota // plain YAML/JSON files, read by kube.Load
	HelmChart                 // a chart directory (Chart.yaml) or packaged chart (.tgz)
	Kustomization             // a directory with kustomization.yaml
)

// kustomizationFiles are the names kustomize accepts.
var kustomizationFiles = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// Detect says how path is read.
func Detect(path string) Kind {
	fi, err := os.Stat(path)
	if err != nil {
		return Manifests
	}
	if !fi.IsDir() {
		if ext := filepath.Ext(path); ext == ".tgz" || (ext == ".gz" && filepath.Ext(path[:len(path)-3]) == ".tar") {
			return HelmChart
		}
		return Manifests
	}
	if kube.IsChartDir(path) {
		return HelmChart
	}
	for _, name := range kustomizationFiles {
		if exists(filepath.Join(path, name)) {
			return Kustomization
		}
	}
	return Manifests
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Options configures rendering.
type Options struct {
	Helm HelmOptions
	// Limits bound the rendered output like manifest files.
	Limits kube.Limits
	// Logger hears which chart dependencies were read from the scanned
	// charts (nil: nobody).
	Logger *slog.Logger
	// KeepFoundKustomizations reads the files of kustomizations found in
	// scanned directories as written, instead of building them.
	KeepFoundKustomizations bool
}

// Load reads paths into one inventory: charts and kustomizations are
// rendered, everything else is read by kube.Load, and the charts kube.Load
// finds in directories (kube.ErrHelmChart) are rendered too. A dependency
// a chart's charts/ lacks is read from a scanned chart of that name and a
// matching version when there is one (chartIndex). Like kube.Load, it
// returns what it could read and an error joining one error per bad
// input.
//
// The kustomizations found in directories that no other of them builds
// on are built (builtInWalks): the files they include are judged as
// built, and a base is judged once per overlay over it, not alone.
func Load(ctx context.Context, paths []string, stdin io.Reader, opts Options) (*kube.Inventory, error) {
	kinds := make([]Kind, len(paths))
	var plain, charts []string
	for i, p := range paths {
		if p != kube.Stdin {
			kinds[i] = Detect(p)
		}
		switch kinds[i] {
		case Manifests:
			plain = append(plain, p)
		case HelmChart:
			charts = append(charts, p)
		}
	}
	plainInv, found, err := loadPlain(ctx, plain, stdin, opts.Limits)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	// Charts render on every core (Bitnami's 139: 5.8 → 2.9 s on two),
	// each into its own slot, so the objects keep the order of paths, then
	// of the charts found in directories.
	all := append(slices.Clip(charts), found...)
	scan := newChartScan(newChartIndex(all))
	rendered := make([]renderedChart, len(all))
	// Each stops when ctx ends, which the end of Load reports.
	_ = parallel.Each(ctx, len(all), runtime.GOMAXPROCS(0), 1, func(i int) {
		rendered[i] = renderHelm(ctx, all[i], opts.Helm, opts.Limits, scan)
	})
	var objs []*kube.Object
	var fromIndex, withCI []string
	add := func(p string, r renderedChart) {
		objs = append(objs, r.objs...)
		errs = append(errs, inputErrors(p, r.err)...)
		for _, u := range r.fromIndex {
			fromIndex = append(fromIndex, p+": "+u)
		}
		if r.ciValues != "" {
			f := r.ciValues
			if rel, err := filepath.Rel(p, f); err == nil {
				f = rel
			}
			withCI = append(withCI, fmt.Sprintf("%s: %s (defaults: %s)", p, f, firstLine(r.defaultsErr)))
		}
	}
	next := 0 // rendered[:len(charts)] are the charts of paths, in order
	for i, p := range paths {
		switch kinds[i] {
		case HelmChart:
			add(p, rendered[next])
			next++
		case Kustomization:
			built, err := Kustomize(ctx, p, opts.Limits)
			add(p, renderedChart{objs: built, err: err})
		}
	}
	objs = append(objs, builtInWalks(ctx, plainInv, opts)...)
	for j, p := range found {
		add(p, rendered[len(charts)+j])
	}
	if opts.Logger != nil && len(fromIndex) > 0 {
		opts.Logger.Info("chart dependencies read from charts of that name and a matching version in or beside the scanned paths, where 'helm dependency build' would fetch them from their repositories", "count", len(fromIndex), "dependencies", kube.Abbreviate(fromIndex, 5))
	}
	if opts.Logger != nil && len(withCI) > 0 {
		opts.Logger.Warn("charts whose default values do not render were rendered with their chart-testing values (ci/*-values.yaml); give --values or --set to render them with yours", "count", len(withCI), "charts", kube.Abbreviate(withCI, 5))
	}
	inv := kube.NewInventory(objs)
	inv.Skipped = plainInv.Skipped
	if ctx.Err() != nil {
		return inv, fmt.Errorf("load manifests: %w", ctx.Err())
	}
	return inv, errors.Join(errs...)
}

// loadPlain reads the plain paths with kube.Load: the inventory's Skipped
// are what it skipped but the chart directories it found, returned apart
// for rendering.
func loadPlain(ctx context.Context, plain []string, stdin io.Reader, lim kube.Limits) (*kube.Inventory, []string, error) {
	if len(plain) == 0 {
		return kube.NewInventory(nil), nil, nil
	}
	inv, err := kube.Load(ctx, plain, stdin, lim)
	var found []string
	var skipped []*kube.InputError
	for _, s := range inv.Skipped {
		if errors.Is(s, kube.ErrHelmChart) {
			found = append(found, s.File)
		} else {
			skipped = append(skipped, s)
		}
	}
	inv.Skipped = skipped
	return inv, found, err
}

// inputErrors splits err, what rendering path returned, into one error per
// problem, each naming where it is: those that do not name a file (Helm's
// own errors, which name the template) are put under path.
func inputErrors(path string, err error) []error {
	var out []error
	for _, e := range kube.SplitErrors(err) {
		if _, ok := e.(*kube.InputError); !ok {
			e = &kube.InputError{File: path, Err: e}
		}
		out = append(out, e)
	}
	return out
}

// firstLine is err's message up to its first line break: Helm's template
// errors go on with the template's call stack.
func firstLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// builtInWalks returns the objects of plain, read from the plain paths,
// with the kustomizations found below them built: each that no other
// builds on (kustomizations.roots) is built, and the files its objects were
// written in (placed at by Kustomize) are then judged as built — with the
// overlay's namespace, names and patches — rather than as written. A
// kustomization that does not build offline (a remote base, Helm
// inflation) or names a remote resource, which a scan of what it was given
// does not fetch, leaves its files read as written, with a warning.
// Options.KeepFoundKustomizations reads them all as written.
func builtInWalks(ctx context.Context, plain *kube.Inventory, opts Options) []*kube.Object {
	if opts.KeepFoundKustomizations {
		return plain.Objects
	}
	var roots, failed []string
	ks := newKustomizations(opts.Limits)
	for _, r := range ks.roots(plain.Kustomizations) {
		if remote := ks.remoteIn(r, map[string]bool{}); remote != "" {
			failed = append(failed, r+": names a remote resource, which a scan does not fetch: "+remote)
			continue
		}
		roots = append(roots, r)
	}
	covered := map[string]bool{}
	var built []string
	var out []*kube.Object
	for i, b := range buildFound(ctx, roots, opts.Limits) {
		if b.err != nil {
			failed = append(failed, roots[i]+": "+firstLine(b.err))
			continue
		}
		built = append(built, roots[i])
		for _, o := range b.objs {
			covered[filepath.Clean(o.Source.File)] = true
		}
		out = append(out, b.objs...)
	}
	kept := make([]*kube.Object, 0, len(plain.Objects))
	for _, o := range plain.Objects {
		if !covered[filepath.Clean(o.Source.File)] {
			kept = append(kept, o)
		}
	}
	if opts.Logger != nil && len(built) > 0 {
		opts.Logger.Info("kustomizations found in the scanned directories were built (those no other builds on), and the files they include judged as built", "count", len(built), "kustomizations", kube.Abbreviate(built, 5))
	}
	if opts.Logger != nil && len(failed) > 0 {
		opts.Logger.Warn("kustomizations found in the scanned directories were not built; their files are judged as written", "count", len(failed), "kustomizations", kube.Abbreviate(failed, 5))
	}
	return append(kept, out...)
}
