package config

import (
	"regexp"

	"go.yaml.in/yaml/v3"
)

// Secrets configures secret detection in images.
type Secrets struct {
	// Allowlist silences findings judged harmless for good (test fixtures,
	// documentation). Accepted risks with an owner and an expiry belong in
	// exceptions instead.
	Allowlist SecretsAllowlist
}

// SecretsAllowlist names what secret detection ignores.
type SecretsAllowlist struct {
	// Paths are globs on the absolute path inside the image: "*" within a
	// path segment, "**" across segments, "?" one character.
	Paths []string
	// Rules are rule IDs, e.g. "secret/jwt".
	Rules []string
	// Fingerprints are the "fingerprint" evidence of findings.
	Fingerprints []string
}

func (d *decoder) secrets(path string, n *yaml.Node, s *Secrets) {
	d.mapping(path, n, map[string]fieldFunc{
		"allowlist": func(p string, v *yaml.Node) {
			a := &s.Allowlist
			d.mapping(p, v, map[string]fieldFunc{
				"paths":        func(p string, v *yaml.Node) { d.strings(p, v, &a.Paths, false) },
				"rules":        func(p string, v *yaml.Node) { d.strings(p, v, &a.Rules, false) },
				"fingerprints": func(p string, v *yaml.Node) { d.strings(p, v, &a.Fingerprints, false) },
			})
		},
	})
}

var (
	secretRuleID      = regexp.MustCompile(`^secret/[a-z0-9/-]+$`)
	secretFingerprint = regexp.MustCompile(`^[0-9a-f]{16,64}$`)
)

func (s *Secrets) validate(v *validator, p string) {
	for _, r := range s.Allowlist.Rules {
		if !secretRuleID.MatchString(r) {
			v.add(p+".allowlist.rules", "rule %s: want a secret rule ID such as \"secret/jwt\"", quote(r))
		}
	}
	for _, f := range s.Allowlist.Fingerprints {
		if !secretFingerprint.MatchString(f) {
			v.add(p+".allowlist.fingerprints", "fingerprint %s: want the hex fingerprint shown in a finding", quote(f))
		}
	}
	for _, g := range s.Allowlist.Paths {
		if g == "" || g[0] != '/' {
			v.add(p+".allowlist.paths", "path %s: want an absolute glob such as \"/usr/share/doc/**\"", quote(g))
		}
	}
}
