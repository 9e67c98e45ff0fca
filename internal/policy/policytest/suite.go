// Package policytest runs policy test suites (`palisade policy test DIR`):
// policies, manifests and the verdict each policy must reach on each
// manifest, written in DIR/palisade-test.yaml, like `kyverno test`. Every
// verdict comes from the admission engine itself (admission.Engine.Review
// on an AdmissionRequest built from the manifest), so a suite that passes
// in CI predicts what the webhook does.
package policytest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// FileName is the suite file looked for in a test directory.
const FileName = "palisade-test.yaml"

// Kind is the suite document's kind (apiVersion is policy.APIVersion).
const Kind = "PolicyTest"

// Suite is a palisade-test.yaml as written.
type Suite struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	// Policies are policy files or directories, relative to the suite.
	Policies []string `yaml:"policies"`
	// Builtin lists built-in policy IDs to load as well ("all" for all).
	Builtin []string `yaml:"builtin"`
	// Resources are manifest files or directories, relative to the suite.
	// Namespace objects among them are also the namespaceObject of the
	// resources in that namespace.
	Resources []string `yaml:"resources"`
	// Modes override policy modes, as admission.policies.modes does.
	Modes   map[string]string `yaml:"modes"`
	Results []Expect          `yaml:"results"`
}

// Expect is the verdict a policy must reach on some resources.
type Expect struct {
	Policy string `yaml:"policy"`
	// Resources name manifests: "Kind/namespace/name", "Kind/name" or a
	// bare name (which must then be unambiguous).
	Resources []string `yaml:"resources"`
	// Result is pass, fail (denied, or recorded in audit mode), warn, or
	// skip (the policy does not apply).
	Result string `yaml:"result"`
	// Request sets the admission request around each resource.
	Request *RequestSpec `yaml:"request"`
	// Params replace the policy's params.
	Params any `yaml:"params"`
}

// RequestSpec is the part of an AdmissionRequest a test may set.
type RequestSpec struct {
	Operation string   `yaml:"operation"` // CREATE (default) or UPDATE
	DryRun    bool     `yaml:"dryRun"`
	UserInfo  UserSpec `yaml:"userInfo"`
	// OldResource names the manifest that is the oldObject of an UPDATE.
	OldResource string `yaml:"oldResource"`
}

// UserSpec is request.userInfo.
type UserSpec struct {
	Username string   `yaml:"username"`
	Groups   []string `yaml:"groups"`
}

// The results.
const (
	Pass = "pass"
	Fail = "fail"
	Warn = "warn"
	Skip = "skip"
	// Error is reported (never expected) when the policy could not decide.
	Error = "error"
)

// InputError is a problem with the suite itself: exit code 2, not 1.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// ReadSuite reads dir/palisade-test.yaml strictly and makes its paths
// absolute.
func ReadSuite(dir string) (*Suite, error) {
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &InputError{fmt.Errorf("read test suite: %w", err)}
	}
	s, err := ParseSuite(path, data)
	if err != nil {
		return nil, &InputError{err}
	}
	for _, list := range [][]string{s.Policies, s.Resources} {
		for i, p := range list {
			if !filepath.IsAbs(p) {
				list[i] = filepath.Join(dir, p)
			}
		}
	}
	return s, nil
}

// ParseSuite decodes a suite; file names it in errors.
func ParseSuite(file string, data []byte) (*Suite, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Suite
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var errs []error
	if s.APIVersion != "palisade.dev/v1alpha1" || s.Kind != Kind {
		errs = append(errs, fmt.Errorf("%s: want apiVersion palisade.dev/v1alpha1 and kind %s", file, Kind))
	}
	if len(s.Results) == 0 {
		errs = append(errs, fmt.Errorf("%s: results: a suite needs at least one expected result", file))
	}
	for i, r := range s.Results {
		switch r.Result {
		case Pass, Fail, Warn, Skip:
		default:
			errs = append(errs, fmt.Errorf("%s: results[%d].result %q: want pass, fail, warn or skip", file, i, r.Result))
		}
		if r.Policy == "" || len(r.Resources) == 0 {
			errs = append(errs, fmt.Errorf("%s: results[%d]: policy and resources are required", file, i))
		}
		if q := r.Request; q != nil && q.Operation != "" && q.Operation != "CREATE" && q.Operation != "UPDATE" {
			errs = append(errs, fmt.Errorf("%s: results[%d].request.operation %q: want CREATE or UPDATE", file, i, q.Operation))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &s, nil
}
