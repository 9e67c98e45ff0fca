package vulndb

import (
	"strings"
)

// OSEcosystem maps an image's os-release ID and VERSION_ID to the OSV
// ecosystem its packages' advisories are published under, which scopes them
// to the release:
//
//	debian 12          → "Debian:12"     (major version only: 12.5 → 12)
//	ubuntu 22.04       → "Ubuntu:22.04:LTS" for LTS releases (even year, .04), else "Ubuntu:23.10"
//	alpine 3.11.6      → "Alpine:v3.11"  (major.minor with a "v")
//	rocky 9.3          → "Rocky Linux:9", almalinux 9.3 → "AlmaLinux:9"
//	wolfi, chainguard  → "Wolfi", "Chainguard" (rolling, no release)
//
// It reports false when the distribution is unknown or the release is
// missing (Debian testing/sid has no VERSION_ID and no OSV release).
func OSEcosystem(id, versionID string) (string, bool) {
	versionID = strings.Trim(strings.TrimSpace(versionID), `"'`)
	major, rest, _ := strings.Cut(versionID, ".")
	minor, _, _ := strings.Cut(rest, ".")
	switch strings.ToLower(strings.Trim(strings.TrimSpace(id), `"'`)) {
	case "debian":
		if major == "" {
			return "", false
		}
		return "Debian:" + major, true
	case "ubuntu":
		if major == "" || minor == "" {
			return "", false
		}
		e := "Ubuntu:" + major + "." + minor
		if minor == "04" && len(major) == 2 && (major[1]-'0')%2 == 0 {
			e += ":LTS"
		}
		return e, true
	case "alpine":
		if major == "" || minor == "" {
			return "", false
		}
		return "Alpine:v" + major + "." + minor, true
	case "rocky":
		if major == "" {
			return "", false
		}
		return "Rocky Linux:" + major, true
	case "almalinux":
		if major == "" {
			return "", false
		}
		return "AlmaLinux:" + major, true
	case "wolfi":
		return "Wolfi", true
	case "chainguard":
		return "Chainguard", true
	}
	return "", false
}

// GoToolchainVersion converts a Go toolchain version as runtime.Version and
// build info report it ("go1.21.3", "go1.21", "go1.21rc2",
// "go1.22.0-rc.1 X:…") to the semantic version the Go vulnerability database
// uses for the "stdlib" and "toolchain" packages ("1.21.3", "1.21.0",
// "1.21.0-rc.2"). It reports false for development builds ("devel …").
func GoToolchainVersion(v string) (string, bool) {
	v, _, _ = strings.Cut(strings.TrimSpace(v), " ")
	v, ok := strings.CutPrefix(v, "go")
	if !ok || v == "" {
		return "", false
	}
	pre := ""
	for _, tag := range []string{"rc", "beta"} {
		if i := strings.Index(v, tag); i > 0 {
			n := strings.TrimLeft(v[i+len(tag):], ".")
			v, pre = v[:i], "-"+tag+"."+n
			break
		}
	}
	v = strings.TrimSuffix(v, "-")
	parts := strings.Split(v, ".")
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return "", false
		}
	}
	switch len(parts) {
	case 1:
		return "", false
	case 2:
		v += ".0"
	case 3:
	default:
		return "", false
	}
	return v + pre, true
}

// GoToolchainQueries returns the queries for a Go binary's toolchain: the
// standard library ("stdlib") and the go command ("toolchain"), both at the
// toolchain's version.
func GoToolchainQueries(goVersion string) []Query {
	v, ok := GoToolchainVersion(goVersion)
	if !ok {
		return nil
	}
	return []Query{
		{Ecosystem: "Go", Name: "stdlib", Version: v, PURL: "pkg:golang/stdlib@v" + v},
		{Ecosystem: "Go", Name: "toolchain", Version: v, PURL: "pkg:golang/toolchain@v" + v},
	}
}
