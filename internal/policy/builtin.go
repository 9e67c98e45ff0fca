package policy

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// builtinFS holds the built-in library, one policy per file, so that each
// reads as a unit and a change to one shows as a change to one file.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtin parses the built-in least-privilege library ("lp/…"), sorted by
// ID. Each call returns fresh values.
func Builtin() ([]*Policy, error) {
	names, err := fs.Glob(builtinFS, "builtin/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list built-in policies: %w", err)
	}
	var out []*Policy
	var errs []error
	for _, name := range names {
		data, err := builtinFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read built-in policy %s: %w", name, err)
		}
		ps, err := Parse(name, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, ps...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(out, func(a, b *Policy) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
