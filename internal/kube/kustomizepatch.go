package kube

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrKustomizePatch marks, in Inventory.Skipped, a file that a
// kustomization found in the same directory walk names as a patch: a
// partial object kustomize merges into a base, which judged alone would
// report everything it leaves out.
var ErrKustomizePatch = errors.New("a kustomize patch, merged into its base rather than applied alone")

// kustomizationFile reports whether a file found by walkManifests is a
// kustomization (kustomize also reads "Kustomization", which the walk
// does not visit).
func kustomizationFile(path string) bool {
	base := filepath.Base(path)
	return base == "kustomization.yaml" || base == "kustomization.yml"
}

// kustomizePatches returns the files that the kustomizations among files
// name as patches (patches, patchesStrategicMerge and patchesJson6902
// paths, relative to the kustomization), each with the kustomization
// that names it. A kustomization that does not read is left to the
// decoder to report; one larger than maxSize is not read.
func kustomizePatches(files []string, maxSize int64) map[string]string {
	var out map[string]string
	for _, f := range files {
		if !kustomizationFile(f) {
			continue
		}
		for _, p := range patchPaths(f, maxSize) {
			if out == nil {
				out = map[string]string{}
			}
			out[filepath.Join(filepath.Dir(f), p)] = f
		}
	}
	return out
}

// patchPaths reads the patch file paths of the kustomization at path.
func patchPaths(path string, maxSize int64) []string {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() > maxSize {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return parsePatchPaths(data)
}

// parsePatchPaths reads the patch file paths of a kustomization, data.
func parsePatchPaths(data []byte) []string {
	var k struct {
		Patches []struct {
			Path string `yaml:"path"`
		} `yaml:"patches"`
		// Each a file, or a patch written inline (several lines).
		PatchesStrategicMerge []string `yaml:"patchesStrategicMerge"`
		PatchesJSON6902       []struct {
			Path string `yaml:"path"`
		} `yaml:"patchesJson6902"`
	}
	if yaml.Unmarshal(data, &k) != nil {
		return nil
	}
	var out []string
	for _, p := range k.Patches {
		out = append(out, p.Path)
	}
	for _, p := range k.PatchesStrategicMerge {
		if !strings.Contains(p, "\n") {
			out = append(out, p)
		}
	}
	for _, p := range k.PatchesJSON6902 {
		out = append(out, p.Path)
	}
	// Only relative paths name files kustomize reads by default.
	kept := out[:0]
	for _, p := range out {
		if p = strings.TrimSpace(p); p != "" && !filepath.IsAbs(p) {
			kept = append(kept, p)
		}
	}
	return kept
}

// patchErr is the Skipped entry of file, a patch of kustomization.
func patchErr(file, kustomization string) *InputError {
	return &InputError{File: file, Err: fmt.Errorf("%w (%s)", ErrKustomizePatch, kustomization)}
}
