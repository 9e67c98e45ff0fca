package config

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/palisade-sec/palisade/internal/vulndb/version"
)

// DeniedPackage is a package an image must not contain, whatever its
// vulnerabilities: a library the organisation has banned, a debugging tool
// that has no place in production, a version with a known backdoor.
type DeniedPackage struct {
	// Name is the package name as the inventory records it: the binary
	// package for OS packages, the module path for Go, "group:artifact"
	// for Maven, "@scope/name" for npm. PyPI names are compared
	// normalized (PEP 503: case, '-', '_' and '.' do not matter).
	Name string
	// Ecosystem is an OSV ecosystem name, such as "Debian", "Alpine:v3.19"
	// or "npm"; empty matches every ecosystem. A name without a release
	// ("Debian") matches every release ("Debian:12").
	Ecosystem string
	// Versions restricts the denial to some versions. Each entry is a
	// version ("2.14.1") or comma-separated comparisons that must all
	// hold (">=2.0.0, <2.17.1"); "||" separates alternatives inside an
	// entry, and any entry may match. Empty denies every version. Versions
	// are ordered the way the ecosystem orders them, so Versions needs
	// Ecosystem.
	Versions []string
	// Reason says why the package is denied; required. The gate's verdict
	// quotes it.
	Reason string
}

// Constraint is one comparison of a version range: Op is one of = != < <=
// > >=.
type Constraint struct {
	Op      string
	Version string
}

// VersionRange is a set of constraints that must all hold.
type VersionRange []Constraint

// maxRangeLen bounds one Versions entry; real ones are a few dozen bytes.
const maxRangeLen = 1024

// versionText is what a version may look like in a range: no spaces and
// none of the range syntax. Whether it is a valid version of the
// ecosystem is checked separately, with the ecosystem's comparator.
var versionText = regexp.MustCompile(`^[^\s,|<>=!]+$`)

// ParseVersionRanges parses one Versions entry of a DeniedPackage into its
// alternatives: ">=1.0, <1.5 || 2.0.1" is two ranges, the second "=2.0.1".
func ParseVersionRanges(s string) ([]VersionRange, error) {
	if len(s) > maxRangeLen {
		return nil, fmt.Errorf("version range longer than %d bytes", maxRangeLen)
	}
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty version range (leave versions out to deny every version)")
	}
	var out []VersionRange
	for alt := range strings.SplitSeq(s, "||") {
		var r VersionRange
		for part := range strings.SplitSeq(alt, ",") {
			c, err := parseConstraint(strings.TrimSpace(part))
			if err != nil {
				return nil, fmt.Errorf("version range %s: %w", quote(s), err)
			}
			r = append(r, c)
		}
		out = append(out, r)
	}
	return out, nil
}

func parseConstraint(s string) (Constraint, error) {
	if s == "" {
		return Constraint{}, fmt.Errorf("empty comparison (a stray ',' or '||'?)")
	}
	op := ""
	for _, o := range []string{">=", "<=", "!=", "==", ">", "<", "="} {
		if strings.HasPrefix(s, o) {
			op = o
			break
		}
	}
	v := strings.TrimSpace(s[len(op):])
	switch op {
	case "", "==":
		op = "="
	}
	if v == "" {
		return Constraint{}, fmt.Errorf("%s has no version after the operator", quote(s))
	}
	if !versionText.MatchString(v) {
		return Constraint{}, fmt.Errorf("%s is not an operator (= != < <= > >=) followed by a version", quote(s))
	}
	return Constraint{Op: op, Version: v}, nil
}

// holds reports whether version v satisfies every constraint of r in the
// order of cmp.
func (r VersionRange) holds(cmp version.Comparator, v string) (bool, error) {
	for _, c := range r {
		n, err := cmp.Compare(v, c.Version)
		if err != nil {
			return false, err
		}
		var ok bool
		switch c.Op {
		case "=":
			ok = n == 0
		case "!=":
			ok = n != 0
		case "<":
			ok = n < 0
		case "<=":
			ok = n <= 0
		case ">":
			ok = n > 0
		case ">=":
			ok = n >= 0
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// Matches reports whether d denies the package name at version ver of
// ecosystem. An error means the installed version could not be compared
// in the ecosystem's order; the caller decides (the image gate fails
// closed).
func (d *DeniedPackage) Matches(ecosystem, name, ver string) (bool, error) {
	if d.Ecosystem != "" && ecosystem != d.Ecosystem && !strings.HasPrefix(ecosystem, d.Ecosystem+":") {
		return false, nil
	}
	if !samePackageName(ecosystem, d.Name, name) {
		return false, nil
	}
	if len(d.Versions) == 0 {
		return true, nil
	}
	cmp, ok := version.ForEcosystem(ecosystem)
	if !ok {
		return false, fmt.Errorf("no version order known for ecosystem %s", quote(ecosystem))
	}
	for _, entry := range d.Versions {
		ranges, err := ParseVersionRanges(entry)
		if err != nil {
			return false, err
		}
		for _, r := range ranges {
			ok, err := r.holds(cmp, ver)
			if err != nil {
				return false, fmt.Errorf("compare %s %s with %s: %w", name, ver, quote(entry), err)
			}
			if ok {
				return true, nil
			}
		}
	}
	return false, nil
}

// samePackageName compares package names the way the ecosystem does.
func samePackageName(ecosystem, a, b string) bool {
	if base, _, _ := strings.Cut(ecosystem, ":"); base == "PyPI" {
		return normalizePyPI(a) == normalizePyPI(b)
	}
	return a == b
}

// normalizePyPI is PEP 503 normalization: lowercase, runs of '-', '_' and
// '.' become one '-'.
func normalizePyPI(s string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(s) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}

// validate checks one denied package, including that every version in
// its ranges is a version of its ecosystem.
func (d *DeniedPackage) validate(v *validator, p string) {
	if strings.TrimSpace(d.Name) == "" {
		v.add(p+".name", "missing: name the package to deny")
	}
	if strings.TrimSpace(d.Reason) == "" {
		v.add(p+".reason", "missing: say why the package is denied")
	}
	if len(d.Versions) == 0 {
		return
	}
	if d.Ecosystem == "" {
		v.add(p+".versions", "versions need an ecosystem: each ecosystem orders versions its own way (set ecosystem, such as \"Debian\" or \"npm\")")
		return
	}
	cmp, ok := version.ForEcosystem(d.Ecosystem)
	if !ok {
		v.add(p+".ecosystem", "no version order is known for ecosystem %s, so versions cannot be compared (want an OSV ecosystem such as Debian, Alpine, Red Hat, Go, npm, PyPI, Maven)", quote(d.Ecosystem))
		return
	}
	for i, entry := range d.Versions {
		ep := fmt.Sprintf("%s.versions[%d]", p, i)
		ranges, err := ParseVersionRanges(entry)
		if err != nil {
			v.add(ep, "%v", err)
			continue
		}
		for _, r := range ranges {
			for _, c := range r {
				if _, err := cmp.Compare(c.Version, c.Version); err != nil {
					v.add(ep, "%s is not a %s version: %v", quote(c.Version), d.Ecosystem, err)
				}
			}
		}
	}
}
