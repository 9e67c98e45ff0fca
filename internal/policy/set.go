package policy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Selection chooses the policies admission runs: built-ins, files, and the
// mode of each. It mirrors admission.policies in palisade.yaml.
type Selection struct {
	// Builtin lists the built-in IDs to run; ["all"] runs them all, empty
	// or ["none"] runs none.
	Builtin []string
	// Disabled IDs are dropped, whatever their source.
	Disabled []string
	// Files are policy files or directories of them (*.yaml, *.yml, read
	// recursively).
	Files []string
	// Modes override the mode a policy file declares.
	Modes map[string]Mode
	// Lenient accepts Disabled and Modes IDs that name no loaded policy:
	// they may name policies of ConfigMaps, which load later.
	Lenient bool
}

// Load returns the selected policies, sorted by ID, with modes applied.
// IDs in Builtin, Disabled or Modes that name no policy are errors: a typo
// there would otherwise silently turn a policy off, or leave it on.
func Load(ctx context.Context, sel Selection) ([]*Policy, error) {
	builtin, err := Builtin()
	if err != nil {
		return nil, err
	}
	var out []*Policy
	switch {
	case slices.Equal(sel.Builtin, []string{"all"}):
		out = append(out, builtin...)
	case slices.Equal(sel.Builtin, []string{"none"}):
	default:
		byID := map[string]*Policy{}
		for _, p := range builtin {
			byID[p.ID] = p
		}
		for _, id := range sel.Builtin {
			p, ok := byID[id]
			if !ok {
				return nil, fmt.Errorf("builtin: no built-in policy %q (see palisade policy list)", id)
			}
			out = append(out, p)
		}
	}
	files, err := LoadFiles(ctx, sel.Files)
	if err != nil {
		return nil, err
	}
	out = append(out, files...)
	if sel.Lenient {
		return apply(out, sel.Disabled, sel.Modes)
	}
	return Select(out, sel.Disabled, sel.Modes, builtin)
}

// Select drops disabled policies and applies mode overrides to ps. known
// are further policies whose IDs Disabled and Modes may name without error
// (the whole built-in library, enabled or not).
func Select(ps []*Policy, disabled []string, modes map[string]Mode, known []*Policy) ([]*Policy, error) {
	ids := map[string]bool{}
	for _, p := range append(slices.Clip(ps), known...) {
		ids[p.ID] = true
	}
	var errs []error
	for _, id := range disabled {
		if !ids[id] {
			errs = append(errs, fmt.Errorf("disabled: no policy %q", id))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(modes)) {
		if !ids[id] {
			errs = append(errs, fmt.Errorf("modes: no policy %q", id))
		}
		if _, err := ParseMode(string(modes[id])); err != nil {
			errs = append(errs, fmt.Errorf("modes.%s: %w", id, err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return apply(ps, disabled, modes)
}

// apply drops disabled policies, applies modes and refuses duplicate IDs.
func apply(ps []*Policy, disabled []string, modes map[string]Mode) ([]*Policy, error) {
	seen := map[string]*Policy{}
	var out []*Policy
	for _, p := range ps {
		if slices.Contains(disabled, p.ID) {
			continue
		}
		if first, dup := seen[p.ID]; dup {
			return nil, fmt.Errorf("policy %s is defined twice: %s:%d and %s:%d", p.ID, first.File, first.Line, p.File, p.Line)
		}
		seen[p.ID] = p
		if m, ok := modes[p.ID]; ok && m != p.Mode {
			cp := *p // compiled programs are immutable and shared
			cp.Mode = m
			p = &cp
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// LoadFiles parses the policy files at paths; a directory contributes its
// *.yaml and *.yml files, recursively, in lexical order.
func LoadFiles(ctx context.Context, paths []string) ([]*Policy, error) {
	var out []*Policy
	var errs []error
	for _, path := range paths {
		files, err := policyFiles(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			ps, err := loadFile(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, ps...)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func loadFile(path string) ([]*Policy, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read policy file: %w", err)
	}
	if fi.Size() > MaxFileSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy file: %w", err)
	}
	return Parse(path, data)
}

func policyFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("policy files: %w", err)
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	var out []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list policy files in %s: %w", path, err)
	}
	return out, nil
}
