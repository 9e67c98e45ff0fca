package inventory

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// OS is the distribution an image is built on, from os-release(5).
type OS struct {
	ID              string `json:"id"`                        // "debian", "alpine"
	VersionID       string `json:"versionID,omitempty"`       // "12", "3.11.6"
	VersionCodename string `json:"versionCodename,omitempty"` // "bookworm"
	PrettyName      string `json:"prettyName,omitempty"`      // "Debian GNU/Linux 12 (bookworm)"
	// Ecosystem is the OSV ecosystem of the distribution's packages:
	// "Debian:12", "Alpine:v3.11", "Ubuntu:22.04:LTS", "Rocky Linux:9",
	// "AlmaLinux:9", "Red Hat:enterprise_linux:9" (OSV's Red Hat
	// ecosystems also carry a repository suffix, "::baseos", which the
	// matcher must treat as a prefix match). Bare family name when the
	// release is unknown.
	Ecosystem string `json:"ecosystem"`
	// Path is the file it was read from.
	Path string `json:"path"`
}

// ParseOSRelease parses an os-release file. It returns false when the
// file has no ID.
func ParseOSRelease(data []byte) (OS, bool) {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	var version string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		kv[k] = unquote(v)
	}
	version = kv["VERSION"]
	o := OS{
		ID:              strings.ToLower(kv["ID"]),
		VersionID:       kv["VERSION_ID"],
		VersionCodename: kv["VERSION_CODENAME"],
		PrettyName:      kv["PRETTY_NAME"],
	}
	if o.ID == "" {
		return OS{}, false
	}
	o.Ecosystem = ecosystemFor(o, version)
	return o, true
}

// unquote removes shell-style quotes from an os-release value.
func unquote(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		if v[0] == '"' {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
		}
		return v[1 : len(v)-1]
	}
	return v
}

// ecosystemFor maps an os-release ID and version to the OSV ecosystem.
func ecosystemFor(o OS, version string) string {
	major, minor := splitVersion(o.VersionID)
	switch o.ID {
	case "debian":
		if major == "" {
			return "Debian"
		}
		return "Debian:" + major
	case "alpine":
		if major == "" || minor == "" {
			return "Alpine"
		}
		return "Alpine:v" + major + "." + minor
	case "ubuntu":
		if o.VersionID == "" {
			return "Ubuntu"
		}
		if strings.Contains(version, "LTS") {
			return "Ubuntu:" + o.VersionID + ":LTS"
		}
		return "Ubuntu:" + o.VersionID
	case "rocky":
		return withMajor("Rocky Linux", major)
	case "almalinux":
		return withMajor("AlmaLinux", major)
	case "rhel":
		return withMajor("Red Hat:enterprise_linux", major)
	case "wolfi":
		return "Wolfi"
	case "chainguard":
		return "Chainguard"
	case "opensuse-leap":
		return withMajor("openSUSE:Leap", o.VersionID)
	case "sles":
		return withMajor("SUSE:Linux Enterprise Server", o.VersionID)
	case "mariner", "azurelinux":
		return withMajor("Mariner", o.VersionID)
	}
	return o.ID
}

func withMajor(eco, v string) string {
	if v == "" {
		return eco
	}
	return eco + ":" + v
}

// splitVersion returns the leading numeric major and minor components of
// v ("3.11.6" → "3", "11"; "3.21_alpha" → "3", "21").
func splitVersion(v string) (string, string) {
	parts := strings.SplitN(v, ".", 3)
	num := func(s string) string {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return s[:i]
	}
	major := num(parts[0])
	minor := ""
	if len(parts) > 1 {
		minor = num(parts[1])
	}
	return major, minor
}

// DistroQualifier returns the purl "distro" qualifier for o, the form
// Trivy and Syft write: "debian-12", "3.11.6" for Alpine.
func (o OS) DistroQualifier() string {
	if o.ID == "alpine" {
		return o.VersionID
	}
	if o.VersionID == "" {
		return o.ID
	}
	return o.ID + "-" + o.VersionID
}
