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
	if exists(filepath.Join(path, "Chart.yaml")) {
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
// rendered, everything else is read by kube.Load. Like kube.Load, it
// returns what it could read and an error joining one error per bad input.
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
		var os []*kube.Object
		var err error
		switch Detect(p) {
		case HelmChart:
			os, err = Helm(ctx, p, opts.Helm, opts.Limits)
		case Kustomization:
			os, err = Kustomize(ctx, p, opts.Limits)
		default:
			plain = append(plain, p)
			continue
		}
		objs = append(objs, os...)
		if err != nil {
			errs = append(errs, &kube.InputError{File: p, Err: err})
		}
	}
	if len(plain) > 0 {
		inv, err := kube.Load(ctx, plain, stdin, opts.Limits)
		if inv != nil {
			objs = append(objs, inv.Objects...)
			skipped = inv.Skipped
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	inv := kube.NewInventory(objs)
	inv.Skipped = skipped
	if ctx.Err() != nil {
		return inv, fmt.Errorf("load manifests: %w", ctx.Err())
	}
	return inv, errors.Join(errs...)
}
