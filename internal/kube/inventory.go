package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/palisade-sec/palisade/internal/parallel"
)

// Inventory is a set of objects scanned together: the files of one scan or
// the objects of one cluster. Cross-object checks (a binding and its role, a
// namespace and its NetworkPolicies) look objects up here.
type Inventory struct {
	Objects   []*Object
	Workloads []*Workload
	// Skipped are files found in directories that hold no Kubernetes
	// object at all (package.json, values files, CI pipelines): Load
	// leaves them out instead of failing, and says so here.
	Skipped []*InputError
	// Kustomizations are the directories holding a kustomization that Load
	// found below the directories it was given (not those given): their
	// files are read as manifests, and render.Load builds them.
	Kustomizations []string
	// Unlisted are the kinds a live scan could not list (RBAC, a failing
	// API): that the inventory holds no object of such a kind proves
	// nothing, so checks that follow a reference do not report it missing.
	Unlisted map[string]bool

	byKind map[string][]*Object

	derivedMu sync.Mutex
	derived   map[any]any
}

// NewInventory indexes objs and extracts their workloads.
func NewInventory(objs []*Object) *Inventory {
	inv := &Inventory{Objects: objs, byKind: make(map[string][]*Object)}
	for _, o := range objs {
		inv.byKind[o.Ref.Kind] = append(inv.byKind[o.Ref.Kind], o)
		if w := WorkloadOf(o); w != nil {
			inv.Workloads = append(inv.Workloads, w)
		}
	}
	return inv
}

// WithoutWorkloads returns an inventory of the same objects whose
// Workloads leave out those drop reports, or inv itself when drop reports
// none. It serves scans pinned to a behaviour version that did not yet
// judge some kinds as workloads: their objects stay, for object and
// inventory checks, but no check sees their pod templates.
func (inv *Inventory) WithoutWorkloads(drop func(*Workload) bool) *Inventory {
	var kept []*Workload
	for i, w := range inv.Workloads {
		if !drop(w) {
			if kept != nil {
				kept = append(kept, w)
			}
			continue
		}
		if kept == nil {
			kept = make([]*Workload, i, len(inv.Workloads))
			copy(kept, inv.Workloads[:i])
		}
	}
	if kept == nil {
		return inv
	}
	// A new inventory, not a copy of *inv: its Derived results (the
	// exposure graph, token grants) must be computed from these workloads.
	return &Inventory{Objects: inv.Objects, Workloads: kept, Skipped: inv.Skipped, Unlisted: inv.Unlisted, byKind: inv.byKind}
}

// Derived returns what build computes from the inventory, computed once
// per key, so an analysis several checks and the report share (the
// exposure graph, the takeover grants of service-account tokens) runs once
// per scan. key is a comparable value of a type private to the caller.
// build must only read the inventory, which does not change after
// NewInventory, and must not call Derived itself.
func (inv *Inventory) Derived(key any, build func() any) any {
	inv.derivedMu.Lock()
	defer inv.derivedMu.Unlock()
	if v, ok := inv.derived[key]; ok {
		return v
	}
	v := build()
	if inv.derived == nil {
		inv.derived = map[any]any{}
	}
	inv.derived[key] = v
	return v
}

// OfKind returns the objects of kind, in input order.
func (inv *Inventory) OfKind(kind string) []*Object { return inv.byKind[kind] }

// Namespaces returns every namespace an object of the inventory is in or
// declares (Namespace objects), sorted, without "".
func (inv *Inventory) Namespaces() []string {
	seen := map[string]bool{}
	for _, o := range inv.Objects {
		if o.Meta.Namespace != "" {
			seen[o.Meta.Namespace] = true
		}
		if o.Ref.Kind == "Namespace" && o.Meta.Name != "" {
			seen[o.Meta.Name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for ns := range seen {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// Stdin is the path that names standard input in Load.
const Stdin = "-"

// Load reads the manifests at paths — files, directories (recursively, the
// *.yaml, *.yml and *.json files) or "-" for stdin — into an inventory. It
// returns the inventory of everything it could decode and an error joining
// one *InputError per bad file or document. A file found in a directory
// whose documents are all not Kubernetes objects is not an error: it is
// listed in the inventory's Skipped, and so are a directory below one
// named that holds a Helm chart (ErrHelmChart: render.Load renders it) and
// a file that a kustomization found beside it names as a patch
// (ErrKustomizePatch). Named files, mixed files and YAML that does not
// parse are errors.
func Load(ctx context.Context, paths []string, stdin io.Reader, lim Limits) (*Inventory, error) {
	lim = lim.withDefaults()
	var objs []*Object
	var errs []error
	var skipped []*InputError
	var kustomizations []string
	add := func(os []*Object, err error) {
		objs = append(objs, os...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return NewInventory(objs), fmt.Errorf("load manifests: %w", err)
		}
		if p == Stdin {
			if stdin == nil {
				errs = append(errs, inputErr(p, 0, "no standard input"))
				continue
			}
			data, err := readSized(stdin, 0, lim.MaxFileSize)
			if err != nil {
				errs = append(errs, &InputError{File: "<stdin>", Err: err})
				continue
			}
			add(Decode(ctx, "<stdin>", data, lim))
			continue
		}
		files, charts, err := manifestFiles(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, dir := range charts {
			skipped = append(skipped, &InputError{File: dir, Err: ErrHelmChart})
		}
		for _, f := range files {
			if f != p && kustomizationFile(f) {
				kustomizations = append(kustomizations, filepath.Dir(f))
			}
		}
		// A named file is judged as asked, even when it is a patch.
		if patches := kustomizePatches(files, lim.MaxFileSize); patches != nil {
			kept := files[:0]
			for _, f := range files {
				if k, ok := patches[f]; ok && f != p {
					skipped = append(skipped, patchErr(f, k))
					continue
				}
				kept = append(kept, f)
			}
			files = kept
		}
		loaded := loadFiles(ctx, files, lim)
		for i, f := range files {
			if err := ctx.Err(); err != nil {
				return NewInventory(objs), fmt.Errorf("load manifests: %w", err)
			}
			os, err := loaded[i].objs, loaded[i].err
			if f != p && len(os) == 0 && onlyNotObjects(err) {
				var ie *InputError
				errors.As(err, &ie)
				skipped = append(skipped, ie)
				continue
			}
			add(os, err)
		}
	}
	inv := NewInventory(objs)
	inv.Skipped = skipped
	inv.Kustomizations = kustomizations
	return inv, errors.Join(errs...)
}

// onlyNotObjects reports whether err holds only documents that are not
// Kubernetes objects (and at least one).
func onlyNotObjects(err error) bool {
	errs := SplitErrors(err)
	for _, e := range errs {
		if !errors.Is(e, ErrNotObject) {
			return false
		}
	}
	return len(errs) > 0
}

// loadedFile is what loadFile returned for one file.
type loadedFile struct {
	objs []*Object
	err  error
}

// loadFiles loads files on every core (a repository of one object per
// file has thousands), the results in the order of files. Files not loaded
// because ctx ended are left zero; the caller checks ctx.
func loadFiles(ctx context.Context, files []string, lim Limits) []loadedFile {
	out := make([]loadedFile, len(files))
	_ = parallel.Each(ctx, len(files), runtime.GOMAXPROCS(0), 1, func(i int) {
		out[i].objs, out[i].err = loadFile(ctx, files[i], lim)
	})
	return out
}

// loadFile reads and decodes one file.
func loadFile(ctx context.Context, path string, lim Limits) ([]*Object, error) {
	data, err := ReadFile(path, lim)
	if err != nil {
		return nil, err
	}
	return Decode(ctx, path, data, lim)
}

// ReadFile reads the file at path, as Load reads a manifest: one larger
// than lim's MaxFileSize is an error, and so is one that grows past it
// while it is read. Errors are *InputError values naming path.
func ReadFile(path string, lim Limits) ([]byte, error) {
	lim = lim.withDefaults()
	f, err := os.Open(path)
	if err != nil {
		return nil, &InputError{File: path, Err: unwrapPath(err)}
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		if fi.Size() > lim.MaxFileSize {
			return nil, inputErr(path, 0, "file is larger than %d bytes", lim.MaxFileSize)
		}
		size = fi.Size()
	}
	data, err := readSized(f, size, lim.MaxFileSize)
	if err != nil {
		return nil, &InputError{File: path, Err: err}
	}
	return data, nil
}

// readSized reads r, of about size bytes (0 when unknown), to its end; an
// input larger than max is an error. A buffer of the expected size is
// allocated once: io.ReadAll grows from 512 bytes by copies, which
// touches twice the memory of a large file.
func readSized(r io.Reader, size, max int64) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(size, max)+bytes.MinRead))
	_, err := buf.ReadFrom(io.LimitReader(r, max+1))
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("input is larger than %d bytes", max)
	}
	return data, nil
}

// unwrapPath drops the *fs.PathError wrapper, whose path InputError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// manifestFiles returns path itself when it is a file, or the manifest files
// below it, sorted, when it is a directory, and the directories of the Helm
// charts below it, whose files it leaves out. Hidden directories are
// skipped.
func manifestFiles(path string) (files, charts []string, err error) {
	err = walkManifests(path, func(p string, _ int64) bool {
		files = append(files, p)
		return true
	}, func(dir string) { charts = append(charts, dir) })
	return files, charts, err
}

// ErrHelmChart marks, in Inventory.Skipped, a directory found below a
// scanned one that holds a Helm chart (Chart.yaml): its templates are not
// manifests until rendered, which render.Load does.
var ErrHelmChart = errors.New("a Helm chart: its templates are not manifests until rendered")

// IsChartDir reports whether dir holds a Helm chart: a Chart.yaml.
func IsChartDir(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "Chart.yaml"))
	return err == nil && !fi.IsDir()
}

// walkManifests calls visit with path and its size when it is a file, or
// with each manifest file below it, in order, when it is a directory
// (hidden directories skipped), until visit returns false. A directory
// below path that holds a Helm chart is not entered: chart (when not nil)
// is called with it.
func walkManifests(path string, visit func(file string, size int64) bool, chart func(dir string)) error {
	fi, err := os.Stat(path)
	if err != nil {
		return &InputError{File: path, Err: unwrapPath(err)}
	}
	if !fi.IsDir() {
		visit(path, fi.Size())
		return nil
	}
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return &InputError{File: p, Err: unwrapPath(err)}
		}
		if d.IsDir() {
			if p != path && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if p != path && IsChartDir(p) {
				if chart != nil {
					chart(p)
				}
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			if d.Type().IsRegular() {
				var size int64
				if info, err := d.Info(); err == nil {
					size = info.Size()
				}
				if !visit(p, size) {
					return fs.SkipAll
				}
			}
		}
		return nil
	})
}

// InputSize is the size of the manifest files Load reads under paths
// (stdin, "-", counts 0), counted up to max: what a scan sizes its heap
// by. Paths that cannot be read count 0; Load reports them.
func InputSize(paths []string, max int64) int64 {
	var n int64
	for _, p := range paths {
		if p == "-" || n >= max {
			continue
		}
		_ = walkManifests(p, func(_ string, size int64) bool {
			n += size
			return n < max
		}, nil)
	}
	return n
}
