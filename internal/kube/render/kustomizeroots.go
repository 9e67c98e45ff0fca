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

// kustomizeRoots returns the kustomization directories among dirs that no
// other of them builds on (names in resources, bases or components): the
// overlays, which kustomize is run on. A base is built as part of each
// overlay over it, with the overlay's namespace, names and patches, as it
// is deployed; built alone too, it would be reported once more, as an
// object nobody deploys.
func kustomizeRoots(dirs []string, lim kube.Limits) []string {
	used := map[string]bool{}
	for _, d := range dirs {
		for _, ref := range kustomizationRefs(d, lim) {
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

// kustomizationRefs returns the local directories, cleaned, that the
// kustomization in dir names in resources, bases and components; none
// when it does not read (kustomize says why when it is built).
func kustomizationRefs(dir string, lim kube.Limits) []string {
	local, _ := kustomizationEntries(dir, lim)
	return local
}

// remoteIn returns a remote resource (a URL, a git repository) that the
// kustomization in dir or one it builds on names, or "": kustomize would
// fetch it, running git, and a scan of the directories a user gave does
// not reach out of the machine for what it finds there.
func remoteIn(dir string, lim kube.Limits, seen map[string]bool) string {
	dir = filepath.Clean(dir)
	if seen[dir] {
		return ""
	}
	seen[dir] = true
	local, remote := kustomizationEntries(dir, lim)
	if remote != "" {
		return remote
	}
	for _, d := range local {
		if r := remoteIn(d, lim, seen); r != "" {
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

// kustomizationEntries returns the local directories, cleaned, that the
// kustomization in dir names in resources, bases and components, and the
// first entry that is remote (remoteResource).
func kustomizationEntries(dir string, lim kube.Limits) (local []string, remote string) {
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
			return nil, ""
		}
		for _, r := range slices.Concat(k.Resources, k.Bases, k.Components) {
			ref := filepath.Clean(filepath.Join(dir, r))
			fi, err := os.Stat(ref)
			switch {
			case err == nil && fi.IsDir():
				local = append(local, ref)
			case err != nil && remote == "" && remoteResource(r):
				remote = r
			}
		}
		return local, remote
	}
	return nil, ""
}

// builtKustomization is what building one found kustomization gave.
type builtKustomization struct {
	objs []*kube.Object
	err  error
}

// buildFound builds the kustomizations found in the scanned directories
// that are roots (kustomizeRoots), on every core.
func buildFound(ctx context.Context, roots []string, lim kube.Limits) []builtKustomization {
	out := make([]builtKustomization, len(roots))
	_ = parallel.Each(ctx, len(roots), runtime.GOMAXPROCS(0), 1, func(i int) {
		out[i].objs, out[i].err = Kustomize(ctx, roots[i], lim)
	}) // each stops when ctx ends, which Load reports
	return out
}
