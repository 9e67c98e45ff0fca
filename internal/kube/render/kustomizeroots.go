package render

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/palisade-sec/palisade/internal/kube"
	"github.com/palisade-sec/palisade/internal/parallel"
)

// kustomizations reads the kustomizations of a scan's directories, each
// once: roots and remoteIn look at the same ones, and every root that
// builds on a base would otherwise read the base again.
type kustomizations struct {
	lim     kube.Limits
	entries map[string]kustomizationEntries
}

// kustomizationEntries are what a kustomization names that decides how it
// is built: the local directories, cleaned, it names in resources, bases
// and components, and the first entry that is remote (remoteResource).
type kustomizationEntries struct {
	local  []string
	remote string
}

func newKustomizations(lim kube.Limits) *kustomizations {
	return &kustomizations{lim: lim, entries: map[string]kustomizationEntries{}}
}

// of returns the entries of the kustomization in dir; none when there is
// none or it does not read (kustomize says why when it is built).
func (k *kustomizations) of(dir string) kustomizationEntries {
	dir = filepath.Clean(dir)
	e, ok := k.entries[dir]
	if !ok {
		e = readKustomizationEntries(dir, k.lim)
		k.entries[dir] = e
	}
	return e
}

// roots returns the kustomization directories among dirs that no other
// of them builds on (names in resources, bases or components): the
// overlays, which kustomize is run on. A base is built as part of each
// overlay over it, with the overlay's namespace, names and patches, as it
// is deployed; built alone too, it would be reported once more, as an
// object nobody deploys.
func (k *kustomizations) roots(dirs []string) []string {
	used := map[string]bool{}
	for _, d := range dirs {
		for _, ref := range k.of(d).local {
			used[ref] = true
		}
	}
	var roots []string
	for _, d := range dirs {
		if !used[filepath.Clean(d)] {
			roots = append(roots, d)
		}
	}
	return roots
}

// remoteIn returns a remote resource (a URL, a git repository) that the
// kustomization in dir or one it builds on names, or "": kustomize would
// fetch it, running git, and a scan of the directories a user gave does
// not reach out of the machine for what it finds there.
func (k *kustomizations) remoteIn(dir string, seen map[string]bool) string {
	dir = filepath.Clean(dir)
	if seen[dir] {
		return ""
	}
	seen[dir] = true
	e := k.of(dir)
	if e.remote != "" {
		return e.remote
	}
	for _, d := range e.local {
		if r := k.remoteIn(d, seen); r != "" {
			return r
		}
	}
	return ""
}

// remoteResource reports whether a kustomization entry names something
// kustomize fetches: a URL or a git repository (github.com/org/repo,
// git@host:org/repo, …?ref=v1).
func remoteResource(entry string) bool {
	return strings.Contains(entry, "://") || strings.Contains(entry, "?ref=") || strings.HasPrefix(entry, "git@") ||
		strings.HasPrefix(entry, "github.com/") || strings.HasPrefix(entry, "gitlab.com/") || strings.HasPrefix(entry, "bitbucket.org/")
}

// readKustomizationEntries reads the kustomization in dir for its
// entries (kustomizationEntries).
func readKustomizationEntries(dir string, lim kube.Limits) (e kustomizationEntries) {
	for _, name := range kustomizationFiles {
		data, err := kube.ReadFile(filepath.Join(dir, name), lim)
		if err != nil {
			continue // not there; one that is there but does not read, kustomize reports
		}
		var k struct {
			Resources  []string `json:"resources"`
			Bases      []string `json:"bases"`
			Components []string `json:"components"`
		}
		if yaml.Unmarshal(data, &k) != nil {
			return e
		}
		for _, r := range slices.Concat(k.Resources, k.Bases, k.Components) {
			ref := filepath.Clean(filepath.Join(dir, r))
			fi, err := os.Stat(ref)
			switch {
			case err == nil && fi.IsDir():
				e.local = append(e.local, ref)
			case err != nil && e.remote == "" && remoteResource(r):
				e.remote = r
			}
		}
		return e
	}
	return e
}

// builtKustomization is what building one found kustomization gave.
type builtKustomization struct {
	objs []*kube.Object
	err  error
}

// buildFound builds the kustomizations found in the scanned directories
// that are roots (kustomizations.roots), on every core.
func buildFound(ctx context.Context, roots []string, lim kube.Limits) []builtKustomization {
	out := make([]builtKustomization, len(roots))
	_ = parallel.Each(ctx, len(roots), runtime.GOMAXPROCS(0), 1, func(i int) {
		out[i].objs, out[i].err = Kustomize(ctx, roots[i], lim)
	}) // each stops when ctx ends, which Load reports
	return out
}
