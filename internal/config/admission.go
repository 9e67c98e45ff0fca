package config

import (
	"path/filepath"
	"strings"

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
	// BreakGlass configures the emergency override annotation.
	BreakGlass BreakGlass
	// Policies selects the policy-as-code policies (see policies.go).
	Policies Policies
}

// BreakGlass lets members of named groups admit a workload despite enforce
// violations by annotating it palisade.dev/break-glass: "<reason>".
type BreakGlass struct {
	// Groups whose members may break glass; empty (the default) disables it.
	Groups []string
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
	// Sources are where a passing scan may come from: "attestation" (a
	// signed DSSE attestation in the registry) and "scanRecord" (a scan
	// uploaded to palisade serve). Default: both.
	Sources []string
	// Platform picks the manifest of a multi-arch index whose attestation
	// also counts ("linux/amd64", "linux/arm64/v8").
	Platform string
	// PinDigests turns on the mutating webhook that rewrites tag-only image
	// references to repo:tag@sha256:….
	PinDigests bool
}

// DefaultPodSecurityVersion is the Pod Security Standards version judged
// when the configuration names none: the newest the vendored
// k8s.io/pod-security-admission knows (a test keeps them equal), written
// out rather than "latest" so that a dependency upgrade cannot change
// which pods are admitted without a visible change here.
const DefaultPodSecurityVersion = "v1.37"

// PodSecurityPolicy configures the Pod Security Standards policy.
type PodSecurityPolicy struct {
	Level   string // privileged, baseline or restricted
	Version string // "latest" or "v1.N", pinned so upgrades don't move it
	Mode    string // enforce, warn or audit
	// Namespaces sets the level of single namespaces; a namespace's
	// pod-security.kubernetes.io/enforce label overrides both.
	Namespaces map[string]string
}

func defaultAdmission() Admission {
	return Admission{
		ImageTrust:        ImageTrustPolicy{Mode: "enforce", MaxScanAge: 30 * Day, Sources: []string{SourceAttestation, SourceScanRecord}, Platform: "linux/amd64"},
		PodSecurity:       PodSecurityPolicy{Level: "baseline", Version: DefaultPodSecurityVersion, Mode: "enforce"},
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
				"sources":       func(p string, v *yaml.Node) { d.strings(p, v, &it.Sources, false) },
				"platform":      func(p string, v *yaml.Node) { d.str(p, v, &it.Platform) },
				"pinDigests":    func(p string, v *yaml.Node) { d.boolean(p, v, &it.PinDigests) },
			})
		},
		"podSecurity": func(p string, v *yaml.Node) {
			ps := &a.PodSecurity
			d.mapping(p, v, map[string]fieldFunc{
				"level":      func(p string, v *yaml.Node) { d.str(p, v, &ps.Level) },
				"version":    func(p string, v *yaml.Node) { d.str(p, v, &ps.Version) },
				"mode":       func(p string, v *yaml.Node) { d.str(p, v, &ps.Mode) },
				"namespaces": func(p string, v *yaml.Node) { d.stringMap(p, v, &ps.Namespaces) },
			})
		},
		"excludeNamespaces": func(p string, v *yaml.Node) { d.strings(p, v, &a.ExcludeNamespaces, false) },
		"policies":          func(p string, v *yaml.Node) { d.policies(p, v, &a.Policies) },
		"breakGlass": func(p string, v *yaml.Node) {
			d.mapping(p, v, map[string]fieldFunc{
				"groups": func(p string, v *yaml.Node) { d.strings(p, v, &a.BreakGlass.Groups, false) },
			})
		},
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
	for ns, level := range a.PodSecurity.Namespaces {
		switch level {
		case "privileged", "baseline", "restricted":
		default:
			v.add(p+".podSecurity.namespaces."+ns, "unknown level %s (want privileged, baseline or restricted)", quote(level))
		}
	}
	for _, s := range a.ImageTrust.Sources {
		if s != SourceAttestation && s != SourceScanRecord {
			v.add(p+".imageTrust.sources", "unknown source %s (want %s or %s)", quote(s), SourceAttestation, SourceScanRecord)
		}
	}
	if len(a.ImageTrust.Sources) == 0 {
		v.add(p+".imageTrust.sources", "name at least one source (%s, %s)", SourceAttestation, SourceScanRecord)
	}
	if parts := strings.Split(a.ImageTrust.Platform, "/"); len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		v.add(p+".imageTrust.platform", "platform %s: want os/arch[/variant], e.g. linux/amd64", quote(a.ImageTrust.Platform))
	}
}

// The scan sources of admission.imageTrust.sources.
const (
	SourceAttestation = "attestation"
	SourceScanRecord  = "scanRecord"
)

// stringMap decodes a mapping of names to strings.
func (d *decoder) stringMap(path string, n *yaml.Node, dst *map[string]string) {
	if n = d.value(path, n); n == nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(path, nil, "want a mapping of names to strings, got %s", describe(n))
		return
	}
	out := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			d.failAt(k, path, "keys must be names, got %s", describe(k))
			continue
		}
		if _, dup := out[k.Value]; dup {
			d.failAt(k, path, "duplicate key %s", quote(k.Value))
			continue
		}
		var s string
		d.str(joinPath(path, k.Value), v, &s)
		out[k.Value] = s
	}
	*dst = out
}

func (a *Admission) resolvePaths(dir string) {
	for i, k := range a.TrustedKeys {
		if k != "" && !filepath.IsAbs(k) {
			a.TrustedKeys[i] = filepath.Join(dir, k)
		}
	}
}
