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
	"os"
	"path/filepath"

	"github.com/palisade-sec/palisade/internal/kube"
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
}

// Load reads paths into one inventory: charts and kustomizations are
// rendered, everything else is read by kube.Load, and the charts kube.Load
// finds in directories (kube.ErrHelmChart) are rendered too. Like
// kube.Load, it returns what it could read and an error joining one error
// per bad input.
//
// A kustomization found in a directory is read as manifests, not built:
// building each would report a base once more for every overlay over it.
func Load(ctx context.Context, paths []string, stdin io.Reader, opts Options) (*kube.Inventory, error) {
	var plain []string
	var objs []*kube.Object
	var errs []error
	var skipped []*kube.InputError
	for _, p := range paths {
		if p == kube.Stdin {
			plain = append(plain, p)
			continue
		}
		var rendered []*kube.Object
		var err error
		switch Detect(p) {
		case HelmChart:
			rendered, err = Helm(ctx, p, opts.Helm, opts.Limits)
		case Kustomization:
			rendered, err = Kustomize(ctx, p, opts.Limits)
		default:
			plain = append(plain, p)
			continue
		}
		objs = append(objs, rendered...)
		errs = append(errs, inputErrors(p, err)...)
	}
	if len(plain) > 0 {
		inv, err := kube.Load(ctx, plain, stdin, opts.Limits)
		if err != nil {
			errs = append(errs, err)
		}
		objs = append(objs, inv.Objects...) // never nil
		for _, s := range inv.Skipped {
			if !errors.Is(s, kube.ErrHelmChart) {
				skipped = append(skipped, s)
				continue
			}
			rendered, err := Helm(ctx, s.File, opts.Helm, opts.Limits)
			objs = append(objs, rendered...)
			errs = append(errs, inputErrors(s.File, err)...)
		}
	}
	inv := kube.NewInventory(objs)
	inv.Skipped = skipped
	if ctx.Err() != nil {
		return inv, fmt.Errorf("load manifests: %w", ctx.Err())
	}
	return inv, errors.Join(errs...)
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
