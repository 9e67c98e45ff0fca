package config

import (
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Admission configures the validating admission webhook of `palisade serve`.
type Admission struct {
	// TrustedKeys are public key files (PEM) whose scan attestations make an
	// image trusted. Empty turns attestation checking off: registries and
	// tags are still checked.
	TrustedKeys []string
	// ImageTrust is the image policy: trusted registries (from Registries),
	// no :latest, and a passing, fresh scan attestation.
	ImageTrust ImageTrustPolicy
	// PodSecurity is the Pod Security Standards policy.
	PodSecurity PodSecurityPolicy
	// ExcludeNamespaces are never judged.
	ExcludeNamespaces []string
}

// ImageTrustPolicy configures the image trust policy.
type ImageTrustPolicy struct {
	// Mode is enforce, warn or audit.
	Mode string
	// FailOpen admits when the registry cannot be reached; the default is to
	// deny (fail closed), because an attacker who can break the registry
	// connection must not thereby deploy unscanned images.
	FailOpen bool
	// MaxScanAge refuses attestations older than this; 0 is no limit.
	MaxScanAge Duration
	// MaxDBAge refuses scans made with an advisory database this much
	// older than the scan; 0 is no limit.
	MaxDBAge Duration
	// PolicyDigests, when set, are the baselines a scan must have passed.
	PolicyDigests []string
}

// PodSecurityPolicy configures the Pod Security Standards policy.
type PodSecurityPolicy struct {
	Level   string // privileged, baseline or restricted
	Version string // "latest" or "v1.N", pinned so upgrades don't move it
	Mode    string // enforce, warn or audit
}

func defaultAdmission() Admission {
	return Admission{
		ImageTrust:        ImageTrustPolicy{Mode: "enforce", MaxScanAge: 30 * Day},
		PodSecurity:       PodSecurityPolicy{Level: "baseline", Version: "latest", Mode: "enforce"},
		ExcludeNamespaces: []string{"kube-system", "palisade"},
	}
}

func (d *decoder) admission(path string, n *yaml.Node, a *Admission) {
	d.mapping(path, n, map[string]fieldFunc{
		"trustedKeys": func(p string, v *yaml.Node) { d.strings(p, v, &a.TrustedKeys, false) },
		"imageTrust": func(p string, v *yaml.Node) {
			it := &a.ImageTrust
			d.mapping(p, v, map[string]fieldFunc{
				"mode":          func(p string, v *yaml.Node) { d.str(p, v, &it.Mode) },
				"failOpen":      func(p string, v *yaml.Node) { d.boolean(p, v, &it.FailOpen) },
				"maxScanAge":    func(p string, v *yaml.Node) { d.duration(p, v, &it.MaxScanAge) },
				"maxDBAge":      func(p string, v *yaml.Node) { d.duration(p, v, &it.MaxDBAge) },
				"policyDigests": func(p string, v *yaml.Node) { d.strings(p, v, &it.PolicyDigests, false) },
			})
		},
		"podSecurity": func(p string, v *yaml.Node) {
			ps := &a.PodSecurity
			d.mapping(p, v, map[string]fieldFunc{
				"level":   func(p string, v *yaml.Node) { d.str(p, v, &ps.Level) },
				"version": func(p string, v *yaml.Node) { d.str(p, v, &ps.Version) },
				"mode":    func(p string, v *yaml.Node) { d.str(p, v, &ps.Mode) },
			})
		},
		"excludeNamespaces": func(p string, v *yaml.Node) { d.strings(p, v, &a.ExcludeNamespaces, false) },
	})
}

func (a *Admission) validate(v *validator, p string) {
	for _, m := range []struct{ path, mode string }{{p + ".imageTrust.mode", a.ImageTrust.Mode}, {p + ".podSecurity.mode", a.PodSecurity.Mode}} {
		switch m.mode {
		case "enforce", "warn", "audit":
		default:
			v.add(m.path, "unknown mode %s (want enforce, warn or audit)", quote(m.mode))
		}
	}
	switch a.PodSecurity.Level {
	case "privileged", "baseline", "restricted":
	default:
		v.add(p+".podSecurity.level", "unknown level %s (want privileged, baseline or restricted)", quote(a.PodSecurity.Level))
	}
	if ver := a.PodSecurity.Version; ver != "latest" && !podSecurityVersion.MatchString(ver) {
		v.add(p+".podSecurity.version", "version %s: want \"latest\" or v1.N", quote(ver))
	}
}

func (a *Admission) resolvePaths(dir string) {
	for i, k := range a.TrustedKeys {
		if k != "" && !filepath.IsAbs(k) {
			a.TrustedKeys[i] = filepath.Join(dir, k)
		}
	}
}
