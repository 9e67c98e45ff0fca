package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/finding"
	"github.com/palisade-sec/palisade/internal/posture"
)

// Peer configuration, translated. Some peer verdicts come from the
// configuration the peer's test runs with, not from its check. Where
// Palisade has an equivalent setting, the bench runs every case of that
// tool with the translated setting, as a user migrating from the peer with
// the same configuration would: one general translation per peer
// configuration file, never per case. Peer behaviour hard-coded in a check
// (Polaris' exempt role names, Trivy's test-injected API data) is check
// semantics and stays a disagreement (DISAGREEMENTS.md says which is
// which).
//
// Translated so far:
//   - Kubescape (regolibrary) rules/*/test/*/data.json, the
//     postureControlInputs its test harness gives a rule:
//     imageDigestExemptRepositories becomes exceptions to image-tag;
//     imageRepositoryAllowList (registries that images may come from)
//     becomes registries.trusted; floatingImageTags (tags moved like
//     latest) registries.floatingTags; hardenedSandboxRuntimeClasses,
//     sandbox_cpu_limit_max and sandbox_memory_limit_max
//     posture.sandboxes.runtimeClasses and maxLimits. The other inputs found there have no
//     Palisade equivalent or belong to unmapped peer checks (see
//     kubescapeIgnoredInputs).
//
//   - kube-linter's built-in check parameters (its checks' YAML
//     definitions, quoted in the messages its tests assert):
//     minimum-three-replicas and hpa-minimum-three-replicas take
//     minReplicas 3, priority-class-name takes acceptedPriorityClassNames
//     [system-cluster-critical, system-node-critical]; required-label-owner
//     (the required-label template, key owner) and
//     required-annotation-email (required-annotation, key email and the
//     value pattern its report quotes). They become posture.availability,
//     posture.requiredLabels and posture.requiredAnnotations for every
//     kube-linter case (kubeLinterConfig).
//
// Polaris' default configuration (pkg/config/default.yaml) exempts
// workloads by controller name; none of its mapped cases is decided by it.

// corporaNow is the time exceptions are judged at; translated exceptions
// expire long after it.
var corporaNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// caseConfig is the Palisade configuration a case runs with.
type caseConfig struct {
	// Exceptions are applied to the case's findings; an excepted finding
	// does not count as the check firing, as in a report.
	Exceptions []config.Exception
	// RequiredLabels and RequiredAnnotations are posture.requiredLabels
	// and posture.requiredAnnotations.
	RequiredLabels, RequiredAnnotations []config.RequiredKey
	// Registries are the scan's registry settings.
	Registries config.Registries
	// Sandboxes are the scan's Agent Sandbox settings.
	Sandboxes config.Sandboxes
	// Availability is posture.availability, for the reliability checks.
	Availability config.Availability
	// key identifies the configuration in the scan cache.
	key string
}

// kubeLinterConfig is the translation of kube-linter's built-in check
// parameters: one configuration for all its cases.
var kubeLinterConfig = &caseConfig{
	Availability: config.Availability{
		MinReplicas:     3,
		PriorityClasses: []string{"system-cluster-critical", "system-node-critical"},
	},
	RequiredLabels:      []config.RequiredKey{{Key: "owner"}},
	RequiredAnnotations: []config.RequiredKey{{Key: "email", Value: `[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+`}},
	key:                 "kube-linter built-in parameters",
}

// configFor returns the translated configuration of the peer for case c
// of tool, or nil when the peer's configuration for it needs none.
func configFor(tool string, c corpusCase) (*caseConfig, error) {
	switch tool {
	case "regolibrary":
		return kubescapeCaseConfig(filepath.Join(corporaDir, tool, c.File))
	case "kube-linter":
		return kubeLinterConfig, nil
	}
	return nil, nil
}

// kubescapeInputs is the part of a regolibrary test's data.json we read;
// its dataControlInputs (cloudProvider) feed only the unmapped
// alert-mount-potential-credentials-paths.
type kubescapeInputs struct {
	PostureControlInputs map[string]json.RawMessage `json:"postureControlInputs"`
}

// kubescapeIgnoredInputs are postureControlInputs keys of the corpus that
// decide no mapped case: they feed unmapped peer checks (COVERAGE.md:
// allow/deny lists of container-image-repository and
// rule-identify-blocklisted-image-registries, labels, value ranges,
// Agent Sandbox), or inputs our check already agrees with without them
// (rule-credentials-in-env-var's sensitiveValues and key names;
// floatingImageTags of image-pull-policy-is-not-set-to-always, since
// image-pull-policy judges every tag mutable, floating or not).
var kubescapeIgnoredInputs = map[string]bool{
	"untrustedRegistries": true, "publicRegistries": true,
	"recommendedLabels": true, "k8sRecommendedLabels": true,
	"sensitiveValues": true, "sensitiveValuesAllowed": true, "sensitiveKeyNames": true, "sensitiveKeyNamesAllowed": true,
	"cpu_request_max": true, "cpu_request_min": true, "cpu_limit_max": true, "cpu_limit_min": true,
	"memory_request_max": true, "memory_request_min": true, "memory_limit_max": true, "memory_limit_min": true,
}

// kubescapeCaseConfig translates the data.json of a regolibrary test
// directory. A directory without one runs with no configuration.
func kubescapeCaseConfig(dir string) (*caseConfig, error) {
	data, err := os.ReadFile(filepath.Join(dir, "data.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read kubescape test inputs: %w", err)
	}
	return parseKubescapeInputs(filepath.Join(dir, "data.json"), data)
}

// parseKubescapeInputs translates the data.json read from where.
func parseKubescapeInputs(where string, data []byte) (*caseConfig, error) {
	var in kubescapeInputs
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	cfg := &caseConfig{}
	keys := make([]string, 0, len(in.PostureControlInputs))
	for k := range in.PostureControlInputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case k == "imageDigestExemptRepositories":
			var repos []string
			if err := json.Unmarshal(in.PostureControlInputs[k], &repos); err != nil {
				return nil, fmt.Errorf("%s: postureControlInputs.%s: %w", where, k, err)
			}
			for _, r := range repos {
				if r == "" {
					continue // Kubescape's boundary rule exempts no image for ""
				}
				cfg.Exceptions = append(cfg.Exceptions, digestExemption(r)...)
			}
		case k == "imageRepositoryAllowList":
			var registries []string
			if err := json.Unmarshal(in.PostureControlInputs[k], &registries); err != nil {
				return nil, fmt.Errorf("%s: postureControlInputs.%s: %w", where, k, err)
			}
			for _, r := range registries {
				cfg.Registries.Trusted = append(cfg.Registries.Trusted, registryPatterns(r)...)
			}
		case k == "floatingImageTags":
			if err := json.Unmarshal(in.PostureControlInputs[k], &cfg.Registries.FloatingTags); err != nil {
				return nil, fmt.Errorf("%s: postureControlInputs.%s: %w", where, k, err)
			}
		case k == "hardenedSandboxRuntimeClasses":
			if err := json.Unmarshal(in.PostureControlInputs[k], &cfg.Sandboxes.RuntimeClasses); err != nil {
				return nil, fmt.Errorf("%s: postureControlInputs.%s: %w", where, k, err)
			}
		case k == "sandbox_cpu_limit_max", k == "sandbox_memory_limit_max":
			// A list of one quantity, as Kubescape's inputs always are.
			var max []string
			if err := json.Unmarshal(in.PostureControlInputs[k], &max); err != nil {
				return nil, fmt.Errorf("%s: postureControlInputs.%s: %w", where, k, err)
			}
			if len(max) != 1 {
				return nil, fmt.Errorf("%s: postureControlInputs.%s: want one quantity, got %d", where, k, len(max))
			}
			if k == "sandbox_cpu_limit_max" {
				cfg.Sandboxes.MaxCPU = max[0]
			} else {
				cfg.Sandboxes.MaxMemory = max[0]
			}
		case kubescapeIgnoredInputs[k]:
		default:
			return nil, fmt.Errorf("%s: postureControlInputs.%s: no translation; add one or list it in kubescapeIgnoredInputs", where, k)
		}
	}
	if len(cfg.Exceptions) == 0 && len(cfg.Registries.Trusted) == 0 && len(cfg.Registries.FloatingTags) == 0 &&
		len(cfg.Sandboxes.RuntimeClasses) == 0 && cfg.Sandboxes.MaxCPU == "" && cfg.Sandboxes.MaxMemory == "" {
		return nil, nil
	}
	var sb strings.Builder
	for _, e := range cfg.Exceptions {
		sb.WriteString(e.Match.StableID())
	}
	fmt.Fprintf(&sb, "\x00%v\x00%v", cfg.Registries, cfg.Sandboxes)
	cfg.key = sb.String()
	return cfg, nil
}

// digestExemption restates one entry of Kubescape's
// imageDigestExemptRepositories: image-not-pinned-to-digest skips an
// image that starts with repo followed by '/', ':', '@' or nothing. Our
// exception image globs do not cross '/', so the prefix becomes one
// pattern for the repository itself and one per path depth below it.
func digestExemption(repo string) []config.Exception {
	var out []config.Exception
	pattern := repo
	for depth := 0; depth <= 4; depth++ {
		out = append(out, config.Exception{
			Match:   config.Match{Rules: []string{posture.RulePrefix + "image-tag"}, Image: pattern},
			Owner:   "kubescape imageDigestExemptRepositories",
			Reason:  "translated from the peer test's data.json",
			Expires: corporaNow.AddDate(100, 0, 0),
		})
		pattern += "/*"
	}
	return out
}

// registryPatterns restates one entry of Kubescape's
// imageRepositoryAllowList, a registry host (with its port, if any): an
// image is allowed when its registry is that host, so "gcr.io" allows
// gcr.io/p/agent:1 but neither gcr.io:5000/p/agent nor gcrXio/p/agent
// (a Docker Hub repository). Our registries.trusted globs do not cross '/',
// so the host becomes one pattern per repository path depth.
func registryPatterns(host string) []string {
	var out []string
	pattern := host
	for depth := 1; depth <= 5; depth++ {
		pattern += "/*"
		out = append(out, pattern)
	}
	return out
}

// TestKubescapeDigestExemption checks the translation of
// imageDigestExemptRepositories against the boundary Kubescape enforces.
func TestKubescapeDigestExemption(t *testing.T) {
	excs := digestExemption("internal-registry")
	for _, tc := range []struct {
		image string
		want  bool
	}{
		{"internal-registry/nginx:1.25", true},
		{"internal-registry/team/app@sha256:0123", true},
		{"internal-registry:5000", true},
		{"internal-registry-attacker/app:latest", false},
		{"docker.io/internal-registry/app:1", false},
	} {
		got := false
		for i := range excs {
			if excs[i].Matches(imageFinding(tc.image), nil) {
				got = true
			}
		}
		if got != tc.want {
			t.Errorf("%s: exempt %v, want %v", tc.image, got, tc.want)
		}
	}
}

func imageFinding(image string) *finding.Finding {
	return &finding.Finding{RuleID: posture.RulePrefix + "image-tag", Resource: finding.Resource{Kind: "Pod", Name: "p", Image: image}}
}

// FuzzKubescapeInputs checks that any data.json gives a translation or an
// error naming the file, never a panic.
func FuzzKubescapeInputs(f *testing.F) {
	f.Add([]byte(`{"postureControlInputs":{"imageDigestExemptRepositories":["internal-registry"]}}`))
	f.Add([]byte(`{"postureControlInputs":{"imageDigestExemptRepositories":"x"}}`))
	f.Add([]byte(`{"postureControlInputs":{"unknown":[]}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseKubescapeInputs("data.json", data)
		if err != nil {
			if !strings.Contains(err.Error(), "data.json") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if cfg != nil && (len(cfg.Exceptions) == 0 || cfg.key == "") {
			t.Errorf("translation without exceptions or key: %+v", cfg)
		}
	})
}
